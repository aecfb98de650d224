"""Each sitemap file is a group of its own (issue 18 item 2, publishing/sitemap_keys.py): a
second build reuses the files whose URLs did not change, renders the ones a release's
change reaches, and the export still equals a cold build's byte for byte. And a section's
key digests only the releases its feeds and page show (doc_keys.py, feed_limit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.build import site_of
from feedsvc.publishing import sitemap
from feedsvc.publishing.doc_keys import document_keys, section_group
from feedsvc.publishing.sites import Sites
from tests.conftest import Newsroom, make_newsroom
from tests.publishing.test_incremental_build import Builds, tree
from tests.publishing.test_tags import release

UPDATED = "updated: 2026-11-05T10:00:00+08:00\n"


def _releases(room: Newsroom) -> None:
    for name, day in (("a", 20), ("b", 21), ("c", 1), ("d", 2), ("e", 3)):
        room.write(f"{name}.md", release(name.upper(), f"2026-11-{day:02}T10:00:00+08:00", []))
    assert room.ingest().problems == []


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    _releases(room)
    yield room
    room.store.close()


@pytest.fixture
def builds(room: Newsroom) -> Builds:
    builds = Builds(room)
    assert builds.again().reused == 0
    return builds


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sitemap files a build renders in this process (a second build after a change
    to a few releases renders there alone): the real method, its documents noted."""
    paths: list[str] = []
    render = Sites.sitemap_documents

    def noted(self: Sites, *args: Any, **kwargs: Any) -> Iterator[tuple[int, int | None, Any]]:
        for parts, n, doc in render(self, *args, **kwargs):
            paths.append(doc.path)
            yield parts, n, doc

    monkeypatch.setattr(Sites, "sitemap_documents", noted)
    return paths


def second_build(builds: Builds, rendered: list[str]) -> list[str]:
    """A build into the export, which must equal a cold build; the sitemap files it
    rendered (not the cold build's)."""
    rendered.clear()
    builds.again()
    mine = list(rendered)
    assert tree(builds.out) == builds.cold()
    return mine


def keys_now(room: Newsroom, **options: int) -> dict[str, str]:
    return document_keys(
        room.store.releases.engine,
        "fingerprint",
        archive_page_size=room.settings.feeds.archive_page_size,
        per_page=room.settings.pages.per_page,
        tombstone_cutoff=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        **options,
    )


def sitemap_keys_now(room: Newsroom) -> dict[str, str]:
    return {group: key for group, key in keys_now(room).items() if group.startswith("sitemap")}


def test_a_change_the_sitemap_does_not_show_reuses_it(builds: Builds, rendered: list[str]) -> None:
    room = builds.room
    room.write("d.md", release("D", "2026-11-02T10:00:00+08:00", [], extra=UPDATED))
    room.ingest()
    assert second_build(builds, rendered) == ["sitemap.xml"]
    room.write("d.md", release("D, retitled", "2026-11-02T10:00:00+08:00", [], extra=UPDATED))
    room.clock.advance(minutes=5)
    assert room.ingest().changes.updated
    assert second_build(builds, rendered) == []
    assert b"retitled" in (builds.out / "releases/d/index.html").read_bytes()


def test_an_updated_release_renders_its_sitemap_again(builds: Builds, rendered: list[str]) -> None:
    room = builds.room
    keys = sitemap_keys_now(room)
    room.write("d.md", release("D", "2026-11-02T10:00:00+08:00", [], extra=UPDATED))
    room.ingest()
    assert sitemap_keys_now(room).keys() == keys.keys() == {"sitemap 0"}
    assert sitemap_keys_now(room) != keys
    assert second_build(builds, rendered) == ["sitemap.xml"]
    assert b"<lastmod>2026-11-05</lastmod>" in (builds.out / "sitemap.xml").read_bytes()


def test_past_the_limit_a_release_moves_its_own_file(
    builds: Builds, rendered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three URLs a file: the index page, the section page, B; A, E, D; C (newest first).
    monkeypatch.setattr(sitemap, "SITEMAP_MAX_URLS", 3)
    room = builds.room
    assert second_build(builds, rendered) == [
        "sitemaps/1.xml",
        "sitemaps/2.xml",
        "sitemaps/3.xml",
        "sitemap.xml",
    ]
    keys = sitemap_keys_now(room)
    assert set(keys) == {"sitemap 3", "sitemap 3 1", "sitemap 3 2", "sitemap 3 3"}
    room.write("c.md", release("C", "2026-11-01T10:00:00+08:00", [], extra=UPDATED))
    room.ingest()
    moved = {g for g, key in sitemap_keys_now(room).items() if keys[g] != key}
    # C's file, and the first: the index and section pages are dated by C's `updated` too.
    assert moved == {"sitemap 3", "sitemap 3 1", "sitemap 3 3"}
    assert second_build(builds, rendered) == ["sitemaps/1.xml", "sitemaps/3.xml", "sitemap.xml"]


def test_past_the_limit_in_several_languages_every_file_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sitemap, "SITEMAP_MAX_URLS", 3)
    room = make_newsroom(tmp_path, languages={"zh": {"title": "外交部新闻发布"}})
    try:
        _releases(room)
        room.write("a.zh.md", release("贸易协定", "2026-11-20T10:00:00+08:00", []))
        room.ingest()
        builds = Builds(room)
        builds.again()
        keys = sitemap_keys_now(room)
        room.write("b.zh.md", release("会谈", "2026-11-21T10:00:00+08:00", []))
        room.ingest()
        now = sitemap_keys_now(room)
        assert len(now) > 3 and now.keys() == keys.keys()
        assert all(now[g] != keys[g] for g in keys)
        builds.check()
    finally:
        room.store.close()


def section_now(room: Newsroom) -> tuple[str, list[bytes]]:
    """The key of the section's group (feeds.limit given) and its documents' bytes."""
    keys = keys_now(room, feed_limit=room.settings.feeds.limit)
    site = site_of(room.settings, room.store.releases, room.clock).default
    docs = site.section_documents("press-releases", "Press Releases")
    return keys[section_group(None, "press-releases")], [doc.body for doc in docs]


def test_a_section_key_moves_with_the_releases_it_shows_only(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path, feeds={"limit": 2})  # the section shows B and A
    try:
        _releases(room)
        key, docs = section_now(room)
        room.write("e.md", release("E, retitled", "2026-11-03T10:00:00+08:00", []))
        room.clock.advance(minutes=1)
        assert room.ingest().changes.updated
        assert section_now(room) == (key, docs)  # E is third: not shown
        room.write("a.md", release("A, retitled", "2026-11-20T10:00:00+08:00", []))
        room.clock.advance(minutes=1)
        assert room.ingest().changes.updated
        moved, now = section_now(room)
        assert moved != key and now != docs
    finally:
        room.store.close()
