"""Before a change's feeds are rendered, its pictures' variants for the feeds are made side by
side (issue 14: a release with five photos visible in the feeds within 2 s)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from feedsvc.model import Changes
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.media import ReleaseMedia
from tests.conftest import Newsroom
from tests.publishing.media_corpus import make_media_room


def widest_made(media: ReleaseMedia, room_refs: dict) -> dict[str, bool]:
    out = {}
    for key, ref in room_refs.items():
        if ref.is_image:
            recipe = media.for_feeds(ref).recipe
            out[key] = recipe is not None and media.cache.has(ref.sha256, recipe)
    return out


def test_prepare_makes_each_picture_s_feed_variant_once_side_by_side(
    newsroom: Newsroom, tmp_path: Path, monkeypatch
) -> None:
    room = make_media_room(newsroom, tmp_path / "cache")
    threads: set[int] = set()
    real = ReleaseMedia.bytes_of

    def spied(self, found):
        threads.add(threading.get_ident())
        return real(self, found)

    monkeypatch.setattr(ReleaseMedia, "bytes_of", spied)
    refs = list(room.refs.values())
    assert room.media.prepare(refs, workers=2) == 2  # the photo and the detail; no PDF
    assert all(widest_made(room.media, room.refs).values())
    assert len(threads) == 2 and threading.get_ident() not in threads
    assert room.media.prepare(refs, workers=2) == 0  # made once


def test_a_picture_that_cannot_be_made_is_left_to_the_render(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    room = make_media_room(newsroom, tmp_path / "cache")
    (newsroom.items / room.refs["photo"].source).write_bytes(b"replaced since it was read")
    assert room.media.prepare(list(room.refs.values()), workers=2) == 1  # the detail only
    assert widest_made(room.media, room.refs) == {"photo": False, "detail": True}


def test_a_change_prepares_its_visible_pictures_before_the_feeds_render(
    newsroom: Newsroom, tmp_path: Path, monkeypatch
) -> None:
    room = make_media_room(newsroom, tmp_path / "cache")
    site = room.site()
    cache = DocumentCache(site, newsroom.store.releases, tmp_path / "docs")
    order: list[str] = []
    real_prepare, real_feeds = ReleaseMedia.prepare, type(site.default).main_feeds

    def prepare(self, refs, workers):
        refs = list(refs)
        order.append("prepare:" + ",".join(sorted(r.name for r in refs)))
        return real_prepare(self, refs, workers)

    def main_feeds(self):
        order.append("feeds")
        return real_feeds(self)

    monkeypatch.setattr(ReleaseMedia, "prepare", prepare)
    monkeypatch.setattr(type(site.default), "main_feeds", main_feeds)
    cache.apply(Changes(added=["signing", "plain", "report"], sections={"news"}))
    assert order[:2] == ["prepare:detail.png,photo.jpg,report.pdf,statement.pdf", "feeds"]
    assert all(widest_made(room.media, room.refs).values())


def test_the_store_gives_only_the_newest_visible_releases_files(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    room = make_media_room(newsroom, tmp_path / "cache")
    releases = newsroom.store.releases
    ids = ["plain", "report", "signing", "unknown"]
    signing = (room.refs["photo"], room.refs["detail"], room.refs["statement"])
    assert releases.newest_media(ids, 1) == [signing]  # newest first; "plain" names none
    assert releases.newest_media(ids, 5) == [signing, (room.refs["report"],)]
    newsroom.store.releases.sync([], {"signing/index.md"}, newsroom.clock.now(), dt.UTC)
    assert releases.newest_media(ids, 5) == [(room.refs["report"],)]  # withdrawn: none
