"""The DocumentCache on its own (issue 13), over a real Site and store: what it serves,
what a change re-renders (and what it leaves alone), its disk and its memory limit.

Documents are told apart by identity: a document not re-rendered is the very same object,
a re-rendered one is a new one. Only public behaviour is read (get, apply, load, hot and
what a Ready carries by name), not the headers it builds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.build import site_of
from feedsvc.model import Changes
from feedsvc.publishing.cache import DocumentCache, Missing, Ready
from tests.conftest import Newsroom, make_newsroom

FEEDS = ("feed.xml", "atom.xml", "feed.json")


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    room.add("a.txt", "Alpha", "March 1, 2021", section="Press Releases")
    room.add("b.txt", "Beta", "March 2, 2021", section="Speeches")
    room.write(
        "later.md",
        '+++\ntitle = "Later"\ndate = 2026-12-30T09:00:00Z\nsection = "Speeches"\n'
        "publish_at = 2026-12-30T09:00:00Z\n+++\nSecret until then.\n",
    )
    room.ingest()
    yield room
    room.store.close()


def new_cache(room: Newsroom, memory_bytes: int = 64 << 20) -> DocumentCache:
    site = site_of(room.settings, room.store.releases, room.clock)
    cache = DocumentCache(site, room.store.releases, room.root / "cache", memory_bytes=memory_bytes)
    cache.load()
    return cache


@pytest.fixture
def cache(room: Newsroom) -> Iterator[DocumentCache]:
    cache = new_cache(room)
    yield cache
    cache.close()


def ready(cache: DocumentCache, path: str) -> Ready:
    doc = cache.get(path)
    assert isinstance(doc, Ready), f"{path}: {doc}"
    return doc


def change(room: Newsroom, cache: DocumentCache) -> Changes:
    """Ingest what the folder holds now and tell the cache, as the scan job does."""
    changes = room.ingest().changes
    cache.apply(changes)
    return changes


def test_load_makes_the_feeds_and_home_hot(cache: DocumentCache) -> None:
    for path in ("", *FEEDS, *(f"sections/speeches/{name}" for name in FEEDS)):
        assert path in cache.hot
        assert cache.get(path) is cache.hot[path]  # served as is, never rendered on request
    assert b"Beta" in ready(cache, "feed.xml").body and b"Later" not in ready(cache, "").body
    assert any(path.startswith("assets/") for path in cache.hot)
    assert set(cache.tokens) == {"a", "b"}  # the embargoed one is not there


def test_the_error_pages_are_ready_for_each_kind(cache: DocumentCache) -> None:
    assert set(cache.errors) == {Missing.NOT_FOUND, Missing.GONE}
    assert cache.errors[Missing.NOT_FOUND] is cache.hot["404.html"]
    for page in cache.errors.values():
        assert page.media_type.startswith("text/html")
    assert cache.errors[Missing.GONE].body != cache.errors[Missing.NOT_FOUND].body
    assert cache.unavailable is not None and cache.unavailable.path == "503.html"


def test_a_cold_document_is_rendered_once(cache: DocumentCache) -> None:
    page = ready(cache, "releases/a/")
    assert page.path == "releases/a/" and page.media_type == "text/html; charset=utf-8"
    assert b"Alpha" in page.body
    assert page.last_modified == "Mon, 01 Mar 2021 01:00:00 GMT"
    assert page.gzip is not None and page.etag != page.gzip_etag
    assert cache.get("releases/a/") is page
    for path in ("page/1/", "sections/speeches/", "sitemap.xml", "archive/1/feed.xml"):
        assert cache.get(path) is ready(cache, path)


@pytest.mark.parametrize(
    "path",
    [
        "releases/later/",  # under embargo: not public yet
        "releases/nothing/",
        "releases/a",  # not the release's URL
        "releases/../a/",
        "page/2/",  # past the end
        "page/0/",
        "archive/2/feed.xml",
        "archive/1/feed.rss",
        "sections/none/",
        "sitemaps/2.xml",
        "nothing.html",
        # One document, one path (issue 13 item 1): a final newline (%0A) once matched.
        "releases/a/\n",
        "archive/1/feed.xml\n",
        "sections/speeches/\n",
        "sitemap.xml\n",
    ],
)
def test_what_is_not_there_is_not_found(cache: DocumentCache, path: str) -> None:
    assert cache.get(path) is Missing.NOT_FOUND


def test_a_withdrawn_release_is_gone_and_its_feeds_follow(
    room: Newsroom, cache: DocumentCache
) -> None:
    ready(cache, "releases/a/")
    (room.items / "a.txt").unlink()
    assert change(room, cache).withdrawn == ["a"]
    assert cache.get("releases/a/") is Missing.GONE
    assert b"Alpha" not in ready(cache, "feed.xml").body
    assert cache.get("releases/never/") is Missing.NOT_FOUND  # gone is only for what was


def test_a_change_re_renders_exactly_what_it_touches(room: Newsroom, cache: DocumentCache) -> None:
    before = {path: ready(cache, path) for path in [*cache.hot, "releases/a/", "releases/b/"]}
    room.add("a.txt", "Alpha, corrected", "March 1, 2021", section="Press Releases")
    assert change(room, cache).updated == ["a"]
    after = {path: ready(cache, path) for path in before}
    redone = {path for path in before if after[path] is not before[path]}
    expected = {"", *FEEDS, "releases/a/", *(f"sections/press-releases/{f}" for f in FEEDS)}
    assert redone == expected  # not Beta's page, not the speeches feeds, not the assets
    assert b"Alpha, corrected" in after["releases/a/"].body
    assert b"Alpha, corrected" in after["feed.xml"].body
    assert after["releases/a/"].etag != before["releases/a/"].etag


def test_an_empty_change_changes_nothing(cache: DocumentCache) -> None:
    before = dict(cache.hot)
    page = ready(cache, "page/1/")
    cache.apply(Changes())
    assert cache.hot == before and all(cache.hot[p] is before[p] for p in before)
    assert cache.get("page/1/") is page


def test_a_change_moves_the_pages_listing_releases_on(room: Newsroom, cache: DocumentCache) -> None:
    index, section, sitemap = (
        ready(cache, p) for p in ("page/1/", "sections/speeches/", "sitemap.xml")
    )
    room.add("c.txt", "Gamma", "March 3, 2021", section="Speeches")
    assert change(room, cache).published == ["c"]
    assert b"Gamma" in ready(cache, "page/1/").body and b"Gamma" not in index.body
    assert b"Gamma" in ready(cache, "sections/speeches/").body and b"Gamma" not in section.body
    assert b"releases/c/" in ready(cache, "sitemap.xml").body and b"releases/c/" not in sitemap.body
    assert b"Gamma" in ready(cache, "releases/c/").body


def test_a_lifted_embargo_is_served_once_applied(room: Newsroom, cache: DocumentCache) -> None:
    room.clock.at = dt.datetime(2026, 12, 30, 9, 0, 1, tzinfo=dt.UTC)
    changes = room.store.releases.publish_due(room.clock.now())
    assert cache.get("releases/later/") is Missing.NOT_FOUND  # not told yet
    cache.apply(changes)
    assert b"Secret until then." in ready(cache, "releases/later/").body
    assert b"Later" in ready(cache, "sections/speeches/feed.xml").body


def test_a_document_comes_back_from_disk(room: Newsroom) -> None:
    page_bytes = ready(probe := new_cache(room), "releases/a/").size
    probe.close()
    cache = new_cache(room, memory_bytes=page_bytes)  # room for one page
    first = ready(cache, "releases/a/")
    ready(cache, "releases/b/")  # pushes Alpha's out of memory
    # The store changes behind the cache's back (another instance, not yet followed): a page
    # read back from disk is the one rendered before, not a new rendering.
    room.add("a.txt", "Alpha, rewritten", "March 1, 2021", section="Press Releases")
    room.ingest()
    again = ready(cache, "releases/a/")
    assert again is not first  # not from memory ...
    assert again == first and again.body == first.body  # ... but the same document
    assert b"Alpha, rewritten" not in again.body
    cache.close()


def test_a_new_cache_forgets_what_an_earlier_run_left_on_disk(room: Newsroom) -> None:
    old = new_cache(room, memory_bytes=0)
    ready(old, "releases/a/")
    room.add("a.txt", "Alpha, rewritten", "March 1, 2021", section="Press Releases")
    room.ingest()
    fresh = new_cache(room, memory_bytes=0)
    assert b"Alpha, rewritten" in ready(fresh, "releases/a/").body
    assert not old.disk.exists()
    fresh.close()


def test_memory_keeps_the_latest_documents_within_its_limit(room: Newsroom) -> None:
    probe = new_cache(room)
    size = max(ready(probe, p).size for p in ("releases/a/", "releases/b/"))
    probe.close()
    cache = new_cache(room, memory_bytes=2 * size)
    a, b = ready(cache, "releases/a/"), ready(cache, "releases/b/")
    assert cache.get("releases/b/") is b and cache.get("releases/a/") is a  # both fit
    section = ready(cache, "sections/speeches/")  # b, the least recently used, goes
    assert section.size <= size
    assert cache.get("releases/a/") is a and cache.get("sections/speeches/") is section
    assert cache.get("releases/b/") is not b  # read back from disk
    cache.close()


def test_a_release_page_of_an_older_version_leaves_the_disk(
    room: Newsroom, cache: DocumentCache
) -> None:
    def on_disk() -> set[Path]:
        # Release pages; pages of a change generation (g*/) go with their generation.
        return {f for f in cache.disk.rglob("*") if f.is_file() and f.parent.name[0] != "g"}

    ready(cache, "releases/a/")
    ready(cache, "releases/b/")
    two = on_disk()
    assert len(two) == 2
    room.add("a.txt", "Alpha, corrected", "March 1, 2021", section="Press Releases")
    change(room, cache)
    assert len(on_disk()) == 1  # the old version of Alpha's page: no request asks for it
    ready(cache, "releases/a/")
    assert len(on_disk()) == 2 and on_disk() != two


def test_a_feed_carries_its_browser_page(room: Newsroom, cache: DocumentCache) -> None:
    for path in (*FEEDS, "sections/speeches/feed.xml", "archive/1/atom.xml"):
        feed = ready(cache, path)
        assert feed.browser is not None and not feed.for_browser
        page = feed.browser
        assert page.for_browser and page.browser is None
        assert page.path == feed.path and page.media_type == "text/html; charset=utf-8"
        assert feed.size == len(feed.body) + len(feed.gzip or b"") + page.size
    for path in ("", "releases/a/", "sections/speeches/", "404.html"):
        assert ready(cache, path).browser is None


def test_a_feed_and_its_browser_page_change_together(room: Newsroom, cache: DocumentCache) -> None:
    feed = ready(cache, "feed.xml")
    assert feed.browser is not None and b"Gamma" not in feed.browser.body
    room.add("c.txt", "Gamma", "March 3, 2021", section="Speeches")
    change(room, cache)
    now = ready(cache, "feed.xml")
    assert now.browser is not None and b"Gamma" in now.body and b"Gamma" in now.browser.body
