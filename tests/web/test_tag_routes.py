"""Issue 17: tag pages and feeds, feeds/ and feeds.opml as served (DocumentCache behind the
ASGI app, in process). Tags are cold documents keyed by a version per tag: a change moves
the ETags of the tags it touched and of no other; an unknown tag is a 404 before anything
renders; a tag only an embargoed release has does not exist until it is published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.publishing.cache import DocumentCache, Missing
from feedsvc.web.app import FeedApp
from feedsvc.web.metrics import Metrics
from tests import aio
from tests.conftest import Newsroom, make_newsroom
from tests.publishing.test_tags import release


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path, languages={"zh": {"title": "外交部新闻发布"}})
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", "外交"]))
    room.write("b.md", release("Climate talks", "2026-11-21T10:00:00+08:00", ["Climate"]))
    room.write("d.zh.md", release("王毅会见", "2026-11-22T10:00:00+08:00", ["外交"]))
    room.write(
        "e.md",
        release(
            "Embargoed",
            "2026-12-30T09:00:00Z",
            ["Secret"],
            extra="publish_at: 2026-12-30T09:00:00Z\n",
        ),
    )
    assert room.ingest().problems == []
    yield room
    room.store.close()


@pytest.fixture
def cache(room: Newsroom, tmp_path: Path) -> Iterator[DocumentCache]:
    cache = DocumentCache(room.site, room.store.releases, tmp_path / "cache")
    cache.load()
    yield cache
    cache.close()


def get(app: FeedApp, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {"type": "http", "method": "GET", "path": "/" + path, "headers": []}
    start, body = aio.answer(app, scope)
    return start["status"], dict(start["headers"]), body["body"]


def etags(app: FeedApp, paths: list[str]) -> dict[str, bytes]:
    found = {}
    for path in paths:
        status, headers, _ = get(app, path)
        assert status == 200, path
        found[path] = headers[b"etag"]
    return found


CLIMATE = ["tags/climate/", "tags/climate/feed.xml", "tags/climate/atom.xml"]
TRADE = ["tags/trade/", "tags/trade/feed.xml", "tags/trade/feed.json", "zh/tags/外交/atom.xml"]


def test_tag_documents_are_served_with_their_types(cache: DocumentCache) -> None:
    app = FeedApp(cache, Metrics())
    for path, media_type in [
        ("tags/trade/", b"text/html; charset=utf-8"),
        ("tags/trade/feed.xml", b"application/rss+xml; charset=utf-8"),
        ("tags/外交/atom.xml", b"application/atom+xml; charset=utf-8"),
        ("zh/tags/外交/feed.json", b"application/feed+json; charset=utf-8"),
        ("tags/", b"text/html; charset=utf-8"),
        ("zh/tags/", b"text/html; charset=utf-8"),
        ("feeds/", b"text/html; charset=utf-8"),
        ("feeds.opml", b"text/x-opml; charset=utf-8"),
        ("zh/feeds.opml", b"text/x-opml; charset=utf-8"),
    ]:
        status, headers, _ = get(app, path)
        assert (status, headers[b"content-type"]) == (200, media_type), path
    assert b"\xe7\x8e\x8b\xe6\xaf\x85" in get(app, "zh/tags/外交/feed.json")[2]  # 王毅
    assert b"Trade deal" not in get(app, "zh/tags/外交/feed.json")[2]


@pytest.mark.parametrize(
    "path",
    [
        "tags/nope/",
        "tags/nope/feed.xml",
        "zh/tags/trade/",  # a tag of another language
        "tags/secret/atom.xml",  # only an embargoed release has it
        "tags/secret/",
        "tags/Trade/",  # one spelling, one URL
        "tags/trade/rss.xml",
    ],
)
def test_an_unknown_tag_is_not_found(cache: DocumentCache, path: str) -> None:
    assert cache.get(path) is Missing.NOT_FOUND
    assert get(FeedApp(cache, Metrics()), path)[0] == 404


def test_a_change_moves_only_the_touched_tags(room: Newsroom, cache: DocumentCache) -> None:
    app = FeedApp(cache, Metrics())
    before = etags(app, CLIMATE + TRADE)
    kept = {path: cache.get(path) for path in TRADE}
    room.write("b.md", release("Climate talks, updated", "2026-11-21T10:00:00+08:00", ["Climate"]))
    room.clock.advance(hours=1)
    changes = room.ingest().changes
    assert changes.tags == {"climate"}
    cache.apply(changes)
    after = etags(app, CLIMATE + TRADE)
    assert all(after[p] != before[p] for p in CLIMATE), "the touched tag moves"
    assert all(after[p] == before[p] for p in TRADE), "the others stay"
    # ... and are not even rendered again: the very same documents are served.
    assert all(cache.get(p) is kept[p] for p in TRADE)
    assert b"updated" in get(app, "tags/climate/feed.xml")[2]


def test_a_release_leaving_a_tag_moves_it_too(room: Newsroom, cache: DocumentCache) -> None:
    app = FeedApp(cache, Metrics())
    before = etags(app, ["tags/trade/atom.xml", "tags/climate/atom.xml"])
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["外交"]))
    cache.apply(changes := room.ingest().changes)
    assert "trade" in changes.tags
    after = etags(app, ["tags/trade/atom.xml", "tags/climate/atom.xml"])
    assert after["tags/trade/atom.xml"] != before["tags/trade/atom.xml"]
    assert after["tags/climate/atom.xml"] == before["tags/climate/atom.xml"]
    assert b"Trade deal" not in get(app, "tags/trade/atom.xml")[2]


def test_an_embargoed_tag_appears_when_published(room: Newsroom, cache: DocumentCache) -> None:
    app = FeedApp(cache, Metrics())
    assert get(app, "tags/secret/")[0] == 404
    assert b"Secret" not in get(app, "feeds.opml")[2]
    room.clock.at = dt.datetime(2026, 12, 30, 9, 0, 1, tzinfo=dt.UTC)
    cache.apply(room.store.releases.publish_due(room.clock.now()))
    status, _, body = get(app, "tags/secret/feed.xml")
    assert status == 200 and b"Embargoed" in body
    assert b"tags/secret/feed.xml" in get(app, "feeds.opml")[2]
    assert b"/tags/secret/" in get(app, "tags/")[2]


def test_a_withdrawn_release_leaves_a_tombstone_served(
    room: Newsroom, cache: DocumentCache
) -> None:
    app = FeedApp(cache, Metrics())
    (room.items / "b.md").unlink()
    room.clock.advance(hours=1)
    cache.apply(room.ingest().changes)
    status, _, body = get(app, "tags/climate/atom.xml")
    assert status == 200 and b"deleted-entry" in body and b"<entry>" not in body


def test_a_tag_feed_names_its_hub_and_itself_in_ascii(tmp_path: Path) -> None:
    """WebSub discovery by Link header (section 4) for a tag named in Chinese: the header
    carries URIs (RFC 8288), the IRI percent-encoded, never raw UTF-8."""
    room = make_newsroom(tmp_path / "hub", websub={"hubs": ["https://hub.example.org/"]})
    try:
        room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["外交"]))
        room.ingest()
        cache = DocumentCache(room.site, room.store.releases, tmp_path / "hub-cache")
        cache.load()
        status, headers, body = get(FeedApp(cache, Metrics()), "tags/外交/atom.xml")
        cache.close()
    finally:
        room.store.close()
    assert status == 200 and b'rel="hub"' in body
    assert headers[b"link"] == (
        b'<https://hub.example.org/>; rel="hub", '
        b'<https://press.example.org/tags/%E5%A4%96%E4%BA%A4/atom.xml>; rel="self"'
    )
