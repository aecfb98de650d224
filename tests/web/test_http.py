"""HTTP semantics of a real `feedsvc serve`: media types, conditional GET, HEAD, gzip, errors,
/healthz, /metrics, and the same bytes as `feedsvc build`. One server for the module: no test
here changes the items folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from tests.conftest import REPO, SEED, SEED_ID, newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server, build, exported_documents, metric, wait_for

GOOD = REPO / "tests" / "data" / "good"
TTL_MINUTES = 7  # not the default, so max-age must come from the setting
RELEASE_IDS = {
    SEED_ID,
    "ministry-briefing-2021-03-02",  # toml-front-matter.md
    "yaml-front-matter",
    "moscow-press-meeting",  # front-matter-override.txt
    "2021-04-01-trade-figures",
    "2021-05-20-state-visit",
}

DOCUMENTS = {
    "/feed.xml": "application/rss+xml; charset=utf-8",
    "/atom.xml": "application/atom+xml; charset=utf-8",
    "/feed.json": "application/feed+json; charset=utf-8",
    f"/releases/{SEED_ID}/": "text/html; charset=utf-8",
    "/sitemap.xml": "application/xml; charset=utf-8",
    "/assets/feed.xsl": "text/xsl; charset=utf-8",
}
# Documents drawn from the data carry a Last-Modified; the stylesheet comes with the package.
DATED = [path for path in DOCUMENTS if not path.startswith("/assets/")]
STRONG_ETAG = re.compile(r'^"[\x21\x23-\x7e]+"$')
IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT$"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("http")
    srv = Server(
        root,
        {
            "feeds": {"ttl_minutes": TTL_MINUTES, "archive_page_size": 2},
            "pages": {"per_page": 2},
        },
    )
    shutil.copy(SEED, srv.items / SEED.name)
    for name in ("toml-front-matter.md", "yaml-front-matter.md", "front-matter-override.txt"):
        shutil.copy(GOOD / name, srv.items / name)
    srv.write(
        "2021-04-01-trade-figures.txt",
        newsroom_text(
            "Trade Figures for the First Quarter",
            "April 1, 2021",
            ["the ministry published the trade figures.", "Exports rose by 3 percent."],
            section="Economy",
        ),
    )
    srv.write(
        "2021-05-20-state-visit.txt",
        newsroom_text(
            "State Visit Announced",
            "May 20, 2021",
            ["the spokesperson announced a state visit.", "Details follow."],
        ),
    )
    srv.write("broken.txt", b"")  # a file that cannot be read: reported, the rest publish
    # Files this fresh may wait for the first scan after start (they settle first).
    srv.start(
        ready=lambda srv: wait_for(
            lambda: metric(srv.metrics(), "feedsvc_releases_published") == len(RELEASE_IDS),
            timeout=5,
            what="every release published",
        )
    )
    yield srv
    assert srv.stop() in CLEAN_EXIT


def imf(text: str) -> dt.datetime:
    return parsedate_to_datetime(text)


# -- media types, validators, Cache-Control ----------------------------------------------------


def test_rss_ttl_is_the_configured_one(server: Server) -> None:
    rss = etree.fromstring(server.body("/feed.xml"))
    assert rss.findtext("channel/ttl") == str(TTL_MINUTES)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_document_is_200_with_media_type_strong_etag_and_cache_control(
    server: Server, path: str
) -> None:
    r = server.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == DOCUMENTS[path]
    assert STRONG_ETAG.match(r.headers["ETag"]), r.headers["ETag"]
    ttl = int(etree.fromstring(server.body("/feed.xml")).findtext("channel/ttl"))
    assert r.headers["Cache-Control"] == f"public, max-age={ttl * 60}"
    assert r.headers["Content-Length"] == str(len(r.content))
    assert "Content-Encoding" not in r.headers


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
        )
        if path not in DATED
        else path
        for path in DOCUMENTS
    ],
)
def test_document_has_last_modified(server: Server, path: str) -> None:
    r = server.get(path)
    assert IMF_FIXDATE.match(r.headers.get("Last-Modified", "")), r.headers


def test_feed_last_modified_is_its_last_build_date(server: Server) -> None:
    r = server.get("/feed.xml")
    built = etree.fromstring(r.content).findtext("channel/lastBuildDate")
    assert built == "Thu, 20 May 2021 09:00:00 +0800"  # the newest release, 09:00 Shanghai
    assert r.headers["Last-Modified"] == "Thu, 20 May 2021 01:00:00 GMT"


def test_release_page_last_modified_is_the_release_date(server: Server) -> None:
    r = server.get(f"/releases/{SEED_ID}/")
    assert r.headers["Last-Modified"] == "Fri, 11 Sep 2020 01:00:00 GMT"


# -- conditional GET ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS)
def test_if_none_match_gives_304_with_the_etag_and_no_body(server: Server, path: str) -> None:
    first = server.get(path)
    again = server.get(path, If_None_Match=first.headers["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_if_none_match_with_a_list_and_a_weak_tag_gives_304(server: Server, path: str) -> None:
    etag = server.get(path).headers["ETag"]
    r = server.get(path, If_None_Match=f'"nope", W/{etag}')
    assert r.status_code == 304


@pytest.mark.parametrize("path", DATED)
def test_if_none_match_wins_over_if_modified_since(server: Server, path: str) -> None:
    first = server.get(path)
    r = server.get(
        path, If_None_Match='"not-this-one"', If_Modified_Since=first.headers["Last-Modified"]
    )
    assert r.status_code == 200
    assert r.content == first.content


@pytest.mark.parametrize("path", DATED)
def test_if_modified_since_alone(server: Server, path: str) -> None:
    first = server.get(path)
    modified = imf(first.headers["Last-Modified"])
    same = server.get(path, If_Modified_Since=first.headers["Last-Modified"])
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["ETag"] == first.headers["ETag"]
    later = format_datetime(modified + dt.timedelta(days=1), usegmt=True)
    assert server.get(path, If_Modified_Since=later).status_code == 304
    earlier = format_datetime(modified - dt.timedelta(seconds=1), usegmt=True)
    older = server.get(path, If_Modified_Since=earlier)
    assert older.status_code == 200
    assert older.content == first.content


@pytest.mark.parametrize("ims", ["yesterday", "Thu, 99 May 2021 01:00:00 GMT", ""])
def test_an_invalid_if_modified_since_is_ignored(server: Server, ims: str) -> None:
    first = server.get("/feed.xml")
    r = server.get("/feed.xml", If_Modified_Since=ims)
    assert r.status_code == 200
    assert r.content == first.content


# -- HEAD and compression ------------------------------------------------------------------------


def _headers(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k.lower(): v for k, v in r.headers.items() if k.lower() != "date"}


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_head_has_the_headers_of_get_and_no_body(server: Server, path: str, encoding: str) -> None:
    got = server.get(path, Accept_Encoding=encoding)
    head = server.head(path, Accept_Encoding=encoding)
    assert head.status_code == 200
    assert head.content == b""
    assert _headers(head) == _headers(got)
    if encoding == "identity":
        assert head.headers["Content-Length"] == str(len(got.content))


def _raw_get(server: Server, path: str, accept: str) -> tuple[dict[str, str], bytes]:
    """GET without letting requests decompress: the bytes as they came over the wire."""
    r = server.http.get(
        server.base + path, headers={"Accept-Encoding": accept}, stream=True, timeout=10
    )
    assert r.status_code == 200
    raw = r.raw.read(decode_content=False)
    r.close()
    return _headers(r), raw


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"])
def test_gzip_when_accepted(server: Server, path: str, accept: str) -> None:
    identity = server.get(path)
    headers, raw = _raw_get(server, path, accept)
    assert headers["content-encoding"] == "gzip"
    # A feed also varies by Sec-Fetch-Dest: browsers get its page (issue 12 item 3).
    feed = path in ("/feed.xml", "/atom.xml", "/feed.json")
    vary = "Accept-Encoding, Sec-Fetch-Dest" if feed else "Accept-Encoding"
    assert headers["vary"] == vary
    assert identity.headers["Vary"] == vary
    assert headers["content-length"] == str(len(raw))
    assert gzip.decompress(raw) == identity.content
    assert len(raw) < len(identity.content)
    assert STRONG_ETAG.match(headers["etag"])
    assert headers["etag"] != identity.headers["ETag"]
    assert headers["content-type"] == DOCUMENTS[path]


@pytest.mark.parametrize("accept", ["gzip;q=0", "gzip;q=0, deflate", "*;q=0", "deflate, br"])
def test_gzip_refused_gives_identity(server: Server, accept: str) -> None:
    identity = server.get("/feed.xml")
    headers, raw = _raw_get(server, "/feed.xml", accept)
    assert "content-encoding" not in headers
    assert raw == identity.content
    assert headers["etag"] == identity.headers["ETag"]
    assert headers["vary"] == "Accept-Encoding, Sec-Fetch-Dest"


def test_the_gzip_etag_revalidates(server: Server) -> None:
    headers, _ = _raw_get(server, "/feed.xml", "gzip")
    r = server.http.get(
        server.base + "/feed.xml",
        headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]},
        timeout=10,
    )
    assert r.status_code == 304
    assert r.headers["ETag"] == headers["etag"]


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page",
        "/releases/no-such-release/",
        "/releases/../feed.xml.bak",
        "/archive/99/feed.xml",
        "/page/99/",
        "/sections/no-such-section/",
        "/feed.xml/",
        "/FEED.XML",
    ],
)
def test_unknown_paths_get_the_404_page(server: Server, path: str) -> None:
    page = server.body("/404.html")
    assert b"<html" in page
    r = server.get(path)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.content == page


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_with_allow(server: Server, method: str) -> None:
    r = server.request(method, "/feed.xml")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_healthz(server: Server) -> None:
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert json.loads(r.content) == {"status": "ok", "database": True}


# -- /metrics ----------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_and_status(server: Server) -> None:
    requests_total = "feedsvc_http_requests_total"
    before = server.metrics()
    etag = server.get("/feed.xml").headers["ETag"]
    for _ in range(2):
        server.get("/feed.xml")
    for _ in range(2):
        server.get("/feed.xml", If_None_Match=etag)
    server.get(f"/releases/{SEED_ID}/")
    server.get("/no-such-page")
    r = server.get("/metrics")
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    after = server.metrics()

    def delta(route: str, status: str) -> float:
        return metric(after, requests_total, route=route, status=status) - metric(
            before, requests_total, route=route, status=status
        )

    assert delta("/feed.xml", "200") == 3
    assert delta("/feed.xml", "304") == 2
    assert delta("/releases/{id}/", "200") == 1
    assert delta("other", "404") == 1
    assert delta("/metrics", "200") == 2  # the one above and the one that read `after`
    # Every sample of the family has both labels, nothing else.
    for name, labels in after:
        if name == requests_total:
            assert {key for key, _ in labels} == {"route", "status"}


def test_metrics_304_share(server: Server) -> None:
    etag = server.get("/feed.xml").headers["ETag"]
    server.get("/feed.xml", If_None_Match=etag)
    samples = server.metrics()
    counts = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "feedsvc_http_requests_total"
    }
    total = sum(counts.values())
    not_modified = sum(value for labels, value in counts.items() if ("status", "304") in labels)
    assert not_modified >= 1
    share = metric(samples, "feedsvc_http_not_modified_ratio")
    assert share == pytest.approx(not_modified / total, abs=1e-6)


def test_metrics_releases_and_read_errors(server: Server) -> None:
    samples = server.metrics()
    assert metric(samples, "feedsvc_releases_published") == len(RELEASE_IDS)
    assert metric(samples, "feedsvc_read_errors_total") == 1  # broken.txt, once
    assert metric(samples, "feedsvc_release_files_with_problems") == 1


def test_metrics_count_scan_job_runs(server: Server) -> None:
    runs = metric(server.metrics(), "feedsvc_job_runs_total", job="scan")
    wait_for(
        lambda: metric(server.metrics(), "feedsvc_job_runs_total", job="scan") > runs,
        timeout=3,
        what="the scan job runs every second",
    )
    assert metric(server.metrics(), "feedsvc_job_failures_total", job="scan") == 0


def test_broken_file_is_logged_once(server: Server) -> None:
    runs = metric(server.metrics(), "feedsvc_job_runs_total", job="scan")
    wait_for(
        lambda: metric(server.metrics(), "feedsvc_job_runs_total", job="scan") >= runs + 2,
        timeout=4,
    )
    lines = [line for line in server.log().splitlines() if "broken.txt" in line]
    assert len(lines) == 1, lines
    assert json.loads(lines[0])["level"] == "warning"


# -- the access log ------------------------------------------------------------------------------


def test_one_access_log_line_per_request_soon(server: Server) -> None:
    probe = f"/access-log-probe-{uuid.uuid4().hex}"
    server.get(probe + "?email=someone@example.org")

    def logged() -> list[dict]:
        return [json.loads(line) for line in server.access_log().splitlines() if probe in line]

    entries = wait_for(logged, timeout=2, what="the access log line")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["path"] == probe
    assert entry["method"] == "GET"
    assert entry["status"] == 404
    assert entry["client"] == "127.0.0.0"
    assert "someone" not in json.dumps(entry)


# -- the same bytes as `feedsvc build` -------------------------------------------------------------


def test_every_exported_document_is_served_with_the_same_bytes(
    server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    build(server, out)
    docs = exported_documents(out)
    # The layout this data makes: 6 releases, 2 a page, 2 an archive page, 4 sections.
    assert {url for url in docs if url.startswith("/releases/")} == {
        f"/releases/{rid}/" for rid in RELEASE_IDS
    }
    for url in ("/", "/page/2/", "/page/3/", "/archive/3/feed.xml", "/sections/economy/"):
        assert url in docs
    differing = []
    for url, body in docs.items():
        r = server.get(url)
        if r.status_code != 200 or r.content != body:
            differing.append((url, r.status_code))
    assert differing == []


# -- malformed and oversized requests ------------------------------------------------------------


def _raw_exchange(server: Server, data: bytes) -> int:
    """Send raw bytes, return the status code of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        # The server may answer and close before it has read everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(data)
        answer = b""
        deadline = time.monotonic() + 10
        while b"\r\n" not in answer and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert m, f"no HTTP answer: {answer[:200]!r}"
    return int(m.group(1))


def _still_healthy(server: Server) -> None:
    assert server.get("/healthz").status_code == 200


def test_garbage_gets_a_4xx(server: Server) -> None:
    status = _raw_exchange(server, b"GARBAGE\r\n\r\n")
    assert 400 <= status < 500
    _still_healthy(server)


def test_a_100_kb_path_gets_a_4xx(server: Server) -> None:
    path = b"/releases/" + b"a" * 100_000 + b"/"
    status = _raw_exchange(server, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert 400 <= status < 500
    _still_healthy(server)


def test_a_100_kb_header_gets_a_4xx(server: Server) -> None:
    request = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000
    status = _raw_exchange(server, request + b"\r\n\r\n")
    _still_healthy(server)
    assert 400 <= status < 500


def test_a_100_kb_header_never_gets_a_500(server: Server) -> None:
    request = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000
    status = _raw_exchange(server, request + b"\r\n\r\n")
    assert status < 500
    _still_healthy(server)


def test_feedparser_reads_what_is_served(server: Server) -> None:
    feed = feedparser.parse(server.body("/feed.xml"))
    assert not feed.bozo
    ids = {entry.link.rstrip("/").rsplit("/", 1)[1] for entry in feed.entries}
    assert ids == RELEASE_IDS
