"""Feeds in a browser (issue 12 item 3): a browser navigating to a feed gets a readable
page; everything else (feed readers, curl, fetch()) gets the feed's exact bytes and ETag;
a shared cache never hands one to the other. A real `feedsvc serve` and nginx; Chromium in
tests/browser/test_feed_in_browser.py, beside the session's one browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
import requests

from tests.conftest import newsroom_text
from tests.publishing.test_awkward_text import AWKWARD, shown
from tests.web.conftest import CLEAN_EXIT, Server, build, free_port, wait_for

LATEST = "State Visit Announced"
# Every kind of feed document: the main feeds, a section's, an archive page's.
FEEDS = {
    "/feed.xml": "application/rss+xml; charset=utf-8",
    "/atom.xml": "application/atom+xml; charset=utf-8",
    "/feed.json": "application/feed+json; charset=utf-8",
    "/sections/awkward/feed.xml": "application/rss+xml; charset=utf-8",
    "/sections/awkward/atom.xml": "application/atom+xml; charset=utf-8",
    "/archive/1/feed.json": "application/feed+json; charset=utf-8",
    "/archive/2/atom.xml": "application/atom+xml; charset=utf-8",
}
MAIN = ["/feed.xml", "/atom.xml", "/feed.json"]
MAIN_NAMES = ("feed.xml", "atom.xml", "feed.json")
MEDIA_TYPES = dict(zip(MAIN_NAMES, (FEEDS[path] for path in MAIN), strict=True))
HTML = "text/html; charset=utf-8"
# What Chromium sends on a navigation (Fetch Metadata); scripts cannot set Sec-Fetch-*.
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-User": "?1",
    "Upgrade-Insecure-Requests": "1",
}
# Clients that must get the feed: none of them is a browser navigating.
READERS = {
    "no headers": {},
    "curl": {"User-Agent": "curl/8.5.0", "Accept": "*/*"},
    "feedly": {
        "User-Agent": "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers;"
        " like FeedFetcher-Google)",
        "Accept": "application/atom+xml,application/rss+xml,text/html;q=0.9,*/*;q=0.8",
    },
    "accept text/html only": {"Accept": "text/html"},
    "fetch() from a page": {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"},
    "an iframe": {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"},
}


def write_releases(srv: Server) -> None:
    """Awkward titles and summaries in one section, and a newer release in another."""
    for n, (title, summary) in enumerate(AWKWARD):
        front = {"title": title, "summary": summary, "date": f"2021-03-0{n + 1}"}
        head = "".join(
            f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in front.items()
        )
        srv.write(f"a{n}.md", f'+++\n{head}section = "Awkward"\n+++\nBody {n}.\n')
    paragraphs = ["the spokesperson announced a state visit.", "Details follow."]
    srv.write("2021-05-20-state-visit.txt", newsroom_text(LATEST, "May 20, 2021", paragraphs))


def published(srv: Server, count: int) -> None:
    wait_for(
        lambda: srv.get("/feed.json").ok and len(srv.get("/feed.json").json()["items"]) == count,
        timeout=10,
        what=f"{count} releases in /feed.json",
    )


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live server with the awkward releases, archive pages of two; stopped cleanly."""
    srv = Server(tmp_path_factory.mktemp("feed-in-browser"), {"feeds": {"archive_page_size": 2}})
    write_releases(srv)
    srv.start(ready=lambda srv: published(srv, len(AWKWARD) + 1))
    yield srv
    assert srv.stop() in CLEAN_EXIT


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tmp_path_factory)


def fetch(
    srv: Server, path: str, headers: dict[str, str], method: str = "GET"
) -> requests.Response:
    sent = {"Accept-Encoding": "identity", **headers}
    # A session of its own: no connection state shared with another variant's request.
    with requests.Session() as http:
        return http.request(method, srv.base + path, headers=sent, timeout=10)


def vary(r: requests.Response) -> set[str]:
    return {token.strip().lower() for token in r.headers.get("Vary", "").split(",")}


def titles_and_links(feed: bytes, path: str) -> list[tuple[str, str]]:
    """(title as text, link) of each entry, read as a feed reader reads the format."""
    if path.endswith(".json"):
        return [(item["title"], item["url"]) for item in json.loads(feed)["items"]]
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [(shown(e.title, e.title_detail), e.link) for e in parsed.entries]


# -- who gets what ----------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("path", FEEDS)
def test_anything_but_a_browser_navigation_gets_the_feed(
    server: Server, path: str, reader: str
) -> None:
    plain = fetch(server, path, {})
    r = fetch(server, path, READERS[reader])
    assert r.status_code == 200
    assert r.headers["Content-Type"] == FEEDS[path]
    assert r.content == plain.content  # the exact bytes
    assert r.headers["ETag"] == plain.headers["ETag"]
    assert r.headers["Last-Modified"] == plain.headers["Last-Modified"]
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    assert vary(r) == {"accept-encoding", "sec-fetch-dest"}
    assert r.content.lstrip()[:1] in (b"<", b"{") and b"<!DOCTYPE html>" not in r.content


@pytest.mark.parametrize("path", FEEDS)
def test_a_browser_navigation_gets_the_page(server: Server, path: str) -> None:
    feed = fetch(server, path, {})
    r = fetch(server, path, BROWSER)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == HTML
    assert r.headers["Content-Length"] == str(len(r.content))
    assert r.headers["ETag"] != feed.headers["ETag"]
    # Never stored by a shared cache; a browser asks again before it shows it.
    cache_control = {d.strip() for d in r.headers["Cache-Control"].split(",")}
    assert "private" in cache_control and "public" not in cache_control
    assert cache_control & {"no-cache", "no-store"}
    assert vary(r) == {"accept-encoding", "sec-fetch-dest"}
    assert "Last-Modified" not in r.headers  # a feed's date cannot revalidate the page
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "Referrer-Policy" in r.headers
    doc = lxml.html.fromstring(r.content)
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    feed_url = server.base + path
    assert feed_url in doc.xpath("//link[@rel='alternate']/@href")
    assert doc.xpath("//link[@rel='alternate'][@href=$u]/@type", u=feed_url) == [
        FEEDS[path].partition(";")[0]
    ]
    subscribe = doc.xpath("//input[@id='feed-url']")[0]
    assert subscribe.get("readonly") is not None
    if path.startswith("/archive/"):  # subscribe to the current feed, not a page that is done
        assert subscribe.get("value") == server.base + "/" + path.rpartition("/")[2]
        assert "archive page" in r.text
    else:
        assert subscribe.get("value") == feed_url
    others = {f"{server.base}{path.rpartition('/')[0]}/{name}" for name in MAIN_NAMES}
    assert others - {feed_url} <= set(doc.xpath("//main//a/@href"))
    assert server.base + "/" in doc.xpath("//main//a/@href")  # back to the site


@pytest.mark.parametrize("path", FEEDS)
def test_the_page_shows_the_feeds_entries(server: Server, path: str) -> None:
    feed = fetch(server, path, {}).content
    doc = lxml.html.fromstring(fetch(server, path, BROWSER).content)
    shown_entries = [
        (a.text_content(), a.get("href")) for a in doc.xpath("//ol[@class='releases']/li/h2/a")
    ]
    assert shown_entries == titles_and_links(feed, path)
    assert len(shown_entries) >= 1
    dates = doc.xpath("//ol[@class='releases']/li//time/@datetime")
    assert len(dates) == len(shown_entries)


def test_the_main_page_escapes_every_awkward_title_and_summary(server: Server) -> None:
    shown_page = fetch(server, "/feed.xml", BROWSER)
    doc = lxml.html.fromstring(shown_page.content)
    items = doc.xpath("//ol[@class='releases']/li")
    got = {
        (li.xpath("h2/a")[0].text_content(), li.xpath("p[@class='summary']")[0].text_content())
        for li in items
    }
    assert set(AWKWARD) <= got
    assert doc.xpath("//main//b | //main//script") == []  # text, never markup
    assert b"<script>" not in shown_page.content and b"<b>" not in shown_page.content
    assert doc.xpath("//ol[@class='releases']/li[1]/h2/a")[0].text_content() == LATEST


@pytest.mark.parametrize("packed", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("path", ["/feed.xml", "/feed.json", "/archive/1/atom.xml"])
def test_each_variant_revalidates_only_with_its_own_etag(
    server: Server, path: str, packed: bool
) -> None:
    coding = {"Accept-Encoding": "gzip"} if packed else {}
    feed = fetch(server, path, coding)
    shown_page = fetch(server, path, {**BROWSER, **coding})
    feed_tag, page_tag = feed.headers["ETag"], shown_page.headers["ETag"]
    assert feed_tag != page_tag
    if packed:
        assert shown_page.headers["Content-Encoding"] == "gzip" and page_tag.endswith('-gz"')
    for who, headers, own, other, ctype in (
        ("reader", coding, feed_tag, page_tag, MEDIA_TYPES[path.rpartition("/")[2]]),
        ("browser", {**BROWSER, **coding}, page_tag, feed_tag, HTML),
    ):
        same = fetch(server, path, {**headers, "If-None-Match": own})
        assert same.status_code == 304, who
        assert same.content == b""
        assert same.headers["ETag"] == own, who
        assert vary(same) == {"accept-encoding", "sec-fetch-dest"}, who
        crossed = fetch(server, path, {**headers, "If-None-Match": other})
        assert crossed.status_code == 200, f"{who} got a 304 for the other variant's ETag"
        assert crossed.headers["ETag"] == own
        assert crossed.headers["Content-Type"] == ctype


def test_a_feeds_date_gives_a_304_to_readers_only(server: Server) -> None:
    modified = fetch(server, "/atom.xml", {}).headers["Last-Modified"]
    reader = fetch(server, "/atom.xml", {"If-Modified-Since": modified})
    assert reader.status_code == 304
    navigated = fetch(server, "/atom.xml", {**BROWSER, "If-Modified-Since": modified})
    assert navigated.status_code == 200 and navigated.headers["Content-Type"] == HTML


@pytest.mark.parametrize(
    "path", ["/feed.xml", "/sections/awkward/feed.xml", "/archive/1/feed.json"]
)
def test_head_answers_as_get_would(server: Server, path: str) -> None:
    for headers in ({}, BROWSER, {**BROWSER, "Accept-Encoding": "gzip"}):
        got = fetch(server, path, headers)
        head = fetch(server, path, headers, method="HEAD")
        assert head.status_code == 200
        assert head.content == b""
        for name in ("Content-Type", "Content-Length", "ETag", "Vary", "Cache-Control"):
            assert head.headers[name] == got.headers[name], name


@pytest.mark.parametrize(
    "path", ["/", "/sections/awkward/", "/releases/a0/", "/sitemap.xml", "/assets/style.css"]
)
def test_other_documents_do_not_vary_by_sec_fetch_dest(server: Server, path: str) -> None:
    plain = fetch(server, path, {})
    navigated = fetch(server, path, BROWSER)
    assert plain.status_code == navigated.status_code == 200
    assert navigated.content == plain.content
    assert navigated.headers["ETag"] == plain.headers["ETag"]
    assert "sec-fetch-dest" not in vary(plain)


def test_the_export_keeps_the_feeds_and_their_xslt(server: Server, tmp_path: Path) -> None:
    """`feedsvc build` writes each feed exactly as a feed reader is served it, with its
    xml-stylesheet for browsers, and no page variant: a static server cannot choose."""
    build(server, tmp_path / "public")
    out = tmp_path / "public"
    for path in FEEDS:
        exported = (out / path.lstrip("/")).read_bytes()
        assert exported == fetch(server, path, {}).content, path
        if path.endswith(".xml"):
            assert b'<?xml-stylesheet type="text/xsl" href="' in exported
            assert b'/assets/feed.xsl"?>' in exported
    assert (out / "assets" / "feed.xsl").is_file()
    feed_files = [p for p in out.rglob("*") if p.name in MAIN_NAMES]
    assert len(feed_files) >= len(FEEDS)
    assert not any(b"<!DOCTYPE html>" in p.read_bytes() for p in feed_files)
    assert {p.name for p in out.rglob("*.html")} <= {"index.html", "404.html"}


def test_the_page_changes_when_the_feed_does(tmp_path: Path) -> None:
    srv = Server(tmp_path / "changing")
    write_releases(srv)
    srv.start(ready=lambda srv: published(srv, len(AWKWARD) + 1))
    try:
        before = fetch(srv, "/atom.xml", BROWSER)
        srv.write(
            "2021-06-01-new.txt",
            newsroom_text("A Newer Release", "June 1, 2021", ["news.", "More news."]),
        )
        published(srv, len(AWKWARD) + 2)
        after = fetch(srv, "/atom.xml", {**BROWSER, "If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200  # the old page is not fresh any more
        assert after.headers["ETag"] != before.headers["ETag"]
        first = lxml.html.fromstring(after.content).xpath("//ol[@class='releases']/li[1]/h2/a")
        assert first[0].text_content() == "A Newer Release"
    finally:
        assert srv.stop() in CLEAN_EXIT


# -- a shared cache in front: nginx proxy_cache -----------------------------------------------


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx_cache(server: Server, tmp_path: Path) -> Iterator[str]:
    """nginx as a caching reverse proxy in front of `server`; its base URL. The answer's
    X-Cache header says whether it came from nginx's cache (HIT) or from feedsvc."""
    if not Path(NGINX).is_file():
        if os.environ.get("FEEDSVC_REQUIRE_NGINX") == "1":
            pytest.fail("FEEDSVC_REQUIRE_NGINX=1 but nginx is not installed", pytrace=False)
        pytest.skip("nginx is not installed: apt-get install nginx")
    port = free_port()
    temps = " ".join(
        f"{kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Started by root, nginx's workers would run as nobody, who cannot enter tmp_path.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"{user}daemon off; worker_processes 1; pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  {temps}\n"
        f"  proxy_cache_path {tmp_path}/cache keys_zone=feeds:1m;\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n"
        f"    location / {{\n      proxy_pass {server.base};\n"
        "      proxy_http_version 1.1;\n      proxy_cache feeds;\n"
        "      add_header X-Cache $upstream_cache_status always;\n    }\n  }\n}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-e", str(tmp_path / "error.log"), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "nginx did not answer within 10 s"
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def through(base: str, path: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(base + path, headers={"Accept-Encoding": "gzip", **headers}, timeout=10)


@pytest.mark.parametrize("first", ["browser", "reader"])
@pytest.mark.parametrize("path", ["/feed.xml", "/sections/awkward/feed.json"])
def test_a_shared_cache_never_hands_one_variant_to_the_other(
    server: Server, nginx_cache: str, path: str, first: str
) -> None:
    reader_headers = READERS["feedly"]
    expected = {
        "reader": fetch(server, path, {**reader_headers, "Accept-Encoding": "gzip"}),
        "browser": fetch(server, path, {**BROWSER, "Accept-Encoding": "gzip"}),
    }
    order = ["browser", "reader"] if first == "browser" else ["reader", "browser"]
    statuses: dict[str, list[str]] = {"reader": [], "browser": []}
    for who in order * 3:
        r = through(nginx_cache, path, reader_headers if who == "reader" else BROWSER)
        assert r.status_code == 200
        want = expected[who]
        assert r.headers["Content-Type"] == want.headers["Content-Type"], (who, statuses)
        assert r.content == want.content, (who, statuses)
        assert r.headers["ETag"] == want.headers["ETag"]
        statuses[who].append(r.headers["X-Cache"])
    assert "HIT" in statuses["reader"]  # the feed was cached, and that mattered
    assert "HIT" not in statuses["browser"]  # the page never was
