"""A cheap request must not cost an expensive answer (issue 11, item 12): a numbered
document past the end (a sitemap part, an index page, an archive page) or a section that
does not exist is a 404 decided from counts the cache keeps, before anything is read from
the store or rendered. A sitemap part past the last used to render the whole sitemap first.

Checked with a spy on the renderers, in process and in a real `feedsvc serve` (where the
spy comes in through a `sitecustomize` module on PYTHONPATH): the requests past the end
leave it untouched, and the last document of each kind, asked for afterwards, is rendered
(so the spy does see renders).
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.config import load_settings
from feedsvc.publishing.cache import Missing
from feedsvc.publishing.site import Site
from feedsvc.publishing.sites import Sites
from feedsvc.service import Service
from feedsvc.store.release_reads import ReleaseReads
from feedsvc.web.app import FeedApp
from tests import aio
from tests.conftest import newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server

RELEASES = 3_000
SECTIONS = ("Press Releases", "Speeches", "Briefings")
SITEMAP_URLS = 1_000  # per part, instead of 50,000: 3,004 URLs make four parts
PER_PAGE = 20  # pages.per_page: 150 index pages
ARCHIVE_PAGE_SIZE = 100  # feeds.archive_page_size: 30 archive pages

PAST_THE_END = [
    "/sitemaps/5.xml",
    "/sitemaps/99999.xml",
    "/page/151/",
    "/page/999999999/",
    "/archive/31/feed.xml",
    "/archive/31/atom.xml",
    "/archive/999999999/feed.json",
    "/sections/no-such-section/",
]
THE_LAST = ["/sitemaps/4.xml", "/page/150/", "/archive/30/atom.xml", "/sections/speeches/"]
# What reads the store for, or renders, a numbered document or a section page.
SITE_RENDERERS = ("index_page", "archive_documents", "section_page")  # one language's
SITES_RENDERERS = ("sitemaps",)  # what exists once (issue 15)
STORE_READERS = ("sitemap_entries", "listing", "by_seq", "latest")

SPY = textwrap.dedent(
    """
    import functools, os
    if os.environ.get("FEEDSVC_TEST_RENDER_SPY"):
        import feedsvc.publishing.site as site
        import feedsvc.publishing.sites as sites
        from feedsvc.store.release_reads import ReleaseReads

        import feedsvc.publishing.sitemap

        feedsvc.publishing.sitemap.SITEMAP_MAX_URLS = {sitemap_urls}

        def spied(cls, name):
            real = getattr(cls, name)

            @functools.wraps(real)
            def call(*args, **kwargs):
                with open(os.environ["FEEDSVC_TEST_RENDER_SPY"], "a") as out:
                    out.write(name + "\\n")
                return real(*args, **kwargs)

            setattr(cls, name, call)

        for name in {site_renderers!r}:
            spied(site.Site, name)
        for name in {sites_renderers!r}:
            spied(sites.Sites, name)
        for name in {store_readers!r}:
            spied(ReleaseReads, name)
    """
).format(
    sitemap_urls=SITEMAP_URLS,
    site_renderers=SITE_RENDERERS,
    sites_renderers=SITES_RENDERERS,
    store_readers=STORE_READERS,
)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Server:
    """A service folder with RELEASES releases; its store is filled by the first test."""
    srv = Server(
        tmp_path_factory.mktemp("cheap404") / "office",
        {
            "pages": {"per_page": PER_PAGE},
            "feeds": {"archive_page_size": ARCHIVE_PAGE_SIZE},
            "server": {"watch": False},
            "share": {"enabled": False},
        },
    )
    start = dt.date(2015, 1, 1)
    old = dt.datetime.now().timestamp() - 3600  # settled: the first look ingests them all
    for n in range(RELEASES):
        day = start + dt.timedelta(days=n)
        text = newsroom_text(
            f"Release {n}",
            f"{day:%B} {day.day}, {day.year}",
            [f"the ministry said thing {n}."],
            section=SECTIONS[n % len(SECTIONS)],
        )
        path = srv.write(f"r{n:05d}.txt", text)
        os.utime(path, (old, old))
    return srv


def asgi_get(app: FeedApp, path: str) -> tuple[int, bytes]:
    """One GET through the ASGI app, in process: the status and the body."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [],
        "query_string": b"",
        "client": ("127.0.0.1", 40000),
    }
    start, body = aio.answer(app, scope)
    return start["status"], body["body"]


@pytest.fixture
def in_process(
    office: Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FeedApp, list[str]]]:
    """The app on a started Service, and the names of the renderers it called since."""
    import feedsvc.publishing.sitemap

    monkeypatch.setattr(feedsvc.publishing.sitemap, "SITEMAP_MAX_URLS", SITEMAP_URLS)
    service = Service(load_settings(office.config))
    service.start()
    calls: list[str] = []
    # On the classes: each language's Site reads through a ReleaseReads of its own.
    spies = ((Site, SITE_RENDERERS), (Sites, SITES_RENDERERS), (ReleaseReads, STORE_READERS))
    for target, names in spies:
        for name in names:
            real = getattr(target, name)

            def spied(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                calls.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(target, name, spied)
    app = FeedApp(service.cache, service.metrics, health=service.healthy)
    try:
        yield app, calls
    finally:
        app.pool.shutdown()
        service.close()


def test_past_the_end_is_a_404_with_nothing_rendered_in_process(
    in_process: tuple[FeedApp, list[str]],
) -> None:
    app, calls = in_process
    assert len(app.cache.tokens) == RELEASES
    not_found = app.cache.errors[Missing.NOT_FOUND].body
    for path in PAST_THE_END:
        status, body = asgi_get(app, path)
        assert (status, body) == (404, not_found), path
    assert calls == []
    for path in THE_LAST:
        assert asgi_get(app, path)[0] == 200, path
    assert {*SITE_RENDERERS, *SITES_RENDERERS} <= set(calls)  # the spy does see what renders
    # Only the part asked for is rendered, not every part and the index with it.
    calls.clear()
    status, body = asgi_get(app, "/sitemaps/2.xml")
    assert status == 200 and body.count(b"<loc>") == SITEMAP_URLS
    assert calls == ["sitemaps", "sitemap_entries"]  # Sites.sitemaps reads its entries


def test_past_the_end_is_a_404_with_nothing_rendered_in_a_real_server(
    office: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sitecustomize.py").write_text(SPY, encoding="utf-8")
    spy = tmp_path / "rendered.txt"
    spy.touch()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("FEEDSVC_TEST_RENDER_SPY", str(spy))
    office.start()
    try:
        assert office.get("/sitemap.xml").text.count("<sitemap>") == 4
        rendered = spy.read_text()
        assert "sitemaps" in rendered  # the spy is in the server
        for path in PAST_THE_END:
            r = office.get(path)
            assert r.status_code == 404, path
            assert "text/html" in r.headers["Content-Type"]
        assert spy.read_text() == rendered
        for path in THE_LAST:
            assert office.get(path).status_code == 200, path
        assert set(spy.read_text().split()) >= {*SITE_RENDERERS, *SITES_RENDERERS}
    finally:
        assert office.stop() in CLEAN_EXIT
