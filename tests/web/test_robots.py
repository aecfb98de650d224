"""robots.txt and news-sitemap.xml (issue 17 item 4), served by a real `feedsvc serve` and
written by `feedsvc build`: robots.txt names every sitemap by its absolute URL and keeps
crawlers out of the API, search, the forms' targets and previews, in every language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from feedsvc import layout
from feedsvc.publishing.sitemap import robots_txt
from tests.conftest import newsroom_text
from tests.web.conftest import Server, build, exported_documents, wait_for


def sitemaps_named(body: bytes) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in body.decode().splitlines()
        if line.lower().startswith("sitemap:")
    ]


def disallowed(body: bytes) -> set[str]:
    return {
        line.split(":", 1)[1].strip()
        for line in body.decode().splitlines()
        if line.lower().startswith("disallow:")
    }


def test_served_and_exported_robots_and_news_sitemap(tmp_path: Path) -> None:
    srv = Server(tmp_path / "srv")
    today = dt.datetime.now(dt.UTC).strftime("%B %d, %Y")  # serve runs on the system clock
    srv.write("a.txt", newsroom_text("Talks", today, ["said things."]))
    srv.start()
    try:
        robots = srv.get("/robots.txt")
        assert robots.status_code == 200
        assert robots.headers["content-type"] == "text/plain; charset=utf-8"
        named = sitemaps_named(robots.content)
        assert named == [srv.base + "/sitemap.xml", srv.base + "/news-sitemap.xml"]
        for url in named:  # each absolute, and each answers on this server
            assert urlsplit(url).scheme == "http" and urlsplit(url).netloc
            answer = srv.get(urlsplit(url).path)
            assert answer.status_code == 200, url
            assert answer.headers["content-type"] == "application/xml; charset=utf-8"
            etree.fromstring(answer.content)
        assert "User-agent: *" in robots.text
        assert {"/api/", "/search", "/releases/*/share", "/alerts/"} <= disallowed(robots.content)
        # The release is dated today: wait until the scan published it into the sitemap.
        wait_for(
            lambda: b"/releases/a/" in srv.body("/news-sitemap.xml") or None,
            10,
            what="the release in news-sitemap.xml",
        )
    finally:
        srv.stop()
    out = tmp_path / "public"
    build(srv, out)
    docs = exported_documents(out)
    assert sitemaps_named(docs["/robots.txt"]) == named
    assert b"/releases/a/" in docs["/news-sitemap.xml"]


def test_a_site_below_a_path_names_its_paths_and_sitemaps() -> None:
    body = robots_txt("https://example.org/press/", ["", "zh/"])
    assert sitemaps_named(body) == [
        "https://example.org/press/" + layout.sitemap(),
        "https://example.org/press/" + layout.news_sitemap(),
    ]
    assert all(path.startswith("/press/") for path in disallowed(body))
    assert {"/press/zh/releases/*/preview", "/press/zh/search"} <= disallowed(body)


def test_the_targets_parse_back() -> None:
    for target in (layout.NewsSitemap(), layout.Robots()):
        assert layout.parse(layout.path(target)) == target
        assert layout.parse("zh/" + layout.path(target), {"zh"}) is None  # once, at the top
