"""The pure helpers of the ASGI app, in process: content negotiation, validators, log privacy
and metric labels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feedsvc.publishing.cache import DocumentCache, Ready
from feedsvc.web.access_log import anonymise
from feedsvc.web.app import FeedApp
from feedsvc.web.conditional import accepts_gzip, etag_matches, not_modified_since
from feedsvc.web.metrics import Metrics
from tests import aio
from tests.conftest import Newsroom

# -- accepts_gzip ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"gzip", True),
        (b"x-gzip", True),
        (b"*", True),
        (b"gzip, deflate, br", True),
        (b"br;q=1.0, gzip;q=0.5", True),
        (b"gzip;q=0.5", True),
        (b" gzip ; q=1.0 ", True),
        (b"br, *;q=0.1", True),
        (b"gzip;q=0", False),
        (b"gzip; q=0", False),
        (b"gzip;q=0.000", False),
        (b"gzip;q=0, deflate", False),
        (b"*;q=0", False),
        (b"*, gzip;q=0", False),  # gzip named with q=0: refused, whatever '*' says
        (b"gzip;q=0, *", False),
        (b"gzip;q=abc", False),  # an unreadable weight is not a yes
        (b"deflate, br", False),
        (b"identity", False),
        (b"gzipx", False),
        (b"", False),
    ],
)
def test_accepts_gzip(header: bytes, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("header", [b"GZIP", b"Gzip, deflate", b"X-GZIP"])
def test_accepts_gzip_ignores_case(header: bytes) -> None:
    assert accepts_gzip(header) is True


# -- etag_matches ------------------------------------------------------------------------------


def _ready(etag: str = '"abc123"') -> Ready:
    return Ready(
        path="feed.xml",
        media_type="application/rss+xml; charset=utf-8",
        body=b"<rss/>",
        gzip=b"...",
        etag=etag,
        last_modified=None,
        modified=None,
        max_age=900,
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b'"abc123"', True),
        (b'W/"abc123"', True),  # If-None-Match compares weakly
        (b'"abc123-gz"', True),  # the gzip variant names the same content
        (b'W/"abc123-gz"', True),
        (b'"zzz", "abc123"', True),
        (b'"zzz" ,  W/"abc123" ', True),
        (b"*", True),
        (b" * ", True),
        (b'"zzz"', False),
        (b'"zzz", W/"yyy"', False),
        (b'"abc12"', False),
        (b'"ABC123"', False),  # opaque tags compare exactly
        (b"abc123", False),  # not quoted: not our tag
        (b"", False),
    ],
)
def test_etag_matches(header: bytes, expected: bool) -> None:
    assert etag_matches(header, _ready()) is expected


# -- not_modified_since ------------------------------------------------------------------------

MODIFIED = dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Sun, 06 Nov 1994 08:49:37 GMT", True),  # equal
        (b"Sun, 06 Nov 1994 08:49:38 GMT", True),  # newer than the document
        (b"Mon, 07 Nov 1994 00:00:00 GMT", True),
        (b"Sun, 06 Nov 1994 08:49:36 GMT", False),  # older: modified since
        (b"Sat, 01 Jan 1994 00:00:00 GMT", False),
        # The two obsolete formats recipients must still accept (RFC 9110 5.6.7).
        (b"Sunday, 06-Nov-94 08:49:37 GMT", True),
        (b"Sun Nov  6 08:49:37 1994", True),
        # Invalid dates are ignored (RFC 9110 13.1.3): never a 304.
        (b"garbage", False),
        (b"yesterday", False),
        (b"Sun, 99 Nov 1994 08:49:37 GMT", False),
        (b"", False),
    ],
)
def test_not_modified_since(header: bytes, expected: bool) -> None:
    assert not_modified_since(header, MODIFIED) is expected


def test_not_modified_since_without_a_date_is_never_fresh() -> None:
    assert not_modified_since(b"Sun, 06 Nov 1994 08:49:37 GMT", None) is False


# -- anonymise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("127.0.0.1", "127.0.0.0"),
        ("10.1.2.3", "10.1.2.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),  # the /48
    ],
)
def test_anonymise(ip: str, expected: str) -> None:
    assert anonymise(ip) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("2001:db8::a1b2:c3d4:e5f6:789", "2001:db8::"),
        ("2001::5:6:7:8", "2001::"),
        ("fe80::1", "fe80::"),
    ],
)
def test_anonymise_compressed_ipv6_keeps_only_the_48(ip: str, expected: str) -> None:
    assert anonymise(ip) == expected


# -- the hot path: each answer with its own headers (Ready's named fields, issue 13) ----------


def _fetch(app: FeedApp, method: str, *headers: tuple[bytes, bytes]) -> tuple[int, dict, bytes]:
    scope = {"type": "http", "method": method, "path": "/feed.xml", "headers": list(headers)}
    start, body = aio.answer(app, scope)
    return start["status"], dict(start["headers"]), body["body"]


def test_each_answer_of_a_hot_feed_carries_its_own_etag_and_coding(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    newsroom.add("news.txt", "Big news", "November 26, 2026")
    newsroom.ingest()
    cache = DocumentCache(newsroom.site, newsroom.store.releases, tmp_path / "cache")
    cache.load()
    app = FeedApp(cache, Metrics())
    feed = cache.hot["feed.xml"]
    assert feed.gzip is not None and feed.etag != feed.gzip_etag
    tag, gz_tag = feed.etag.encode(), feed.gzip_etag.encode()
    gzip = (b"accept-encoding", b"gzip")
    # (method, request headers) -> status, ETag, Content-Encoding, Content-Length, body
    cases = [
        ("GET", (), 200, tag, None, b"%d" % len(feed.body), feed.body),
        ("GET", (gzip,), 200, gz_tag, b"gzip", b"%d" % len(feed.gzip), feed.gzip),
        ("HEAD", (gzip,), 200, gz_tag, b"gzip", b"%d" % len(feed.gzip), b""),
        ("GET", ((b"if-none-match", tag),), 304, tag, None, None, b""),
        ("GET", (gzip, (b"if-none-match", gz_tag)), 304, gz_tag, None, None, b""),
        # Either ETag names the content; the answer's coding is the client's.
        ("GET", ((b"if-none-match", gz_tag),), 304, tag, None, None, b""),
        ("GET", (gzip, (b"if-none-match", b'W/"x", ' + tag)), 304, gz_tag, None, None, b""),
    ]
    for method, headers, status, etag, coding, length, body in cases:
        got = _fetch(app, method, *headers)
        assert got[0] == status, (method, headers)
        assert got[1][b"etag"] == etag, (method, headers)
        assert got[1].get(b"content-encoding") == coding, (method, headers)
        assert got[1].get(b"content-length") == length, (method, headers)
        assert got[2] == body, (method, headers)
    cache.close()


def test_a_document_in_memory_is_answered_without_a_thread(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    """Issue 18 item 5: a release page the memory LRU holds is answered on the event loop.
    A thread's turn at the GIL cost each such request up to a switch interval on a busy
    loop (the soak's p99). Only what must be read or rendered goes to the pool: with the
    pool shut, the remembered page still answers, and one not yet rendered cannot."""
    for name, title in (("one.txt", "First news"), ("two.txt", "Second news")):
        newsroom.add(name, title, "November 26, 2026")
    newsroom.ingest()
    cache = DocumentCache(newsroom.site, newsroom.store.releases, tmp_path / "cache")
    cache.load()
    app = FeedApp(cache, Metrics())
    one, two = sorted(key for key in cache.tokens)
    assert one not in cache.hot and two not in cache.hot

    def get(rid: str) -> tuple[int, bytes]:
        scope = {"type": "http", "method": "GET", "path": f"/releases/{rid}/", "headers": []}
        start, body = aio.answer(app, scope)
        return start["status"], body["body"]

    first = get(one)  # read and rendered in the pool, then remembered
    assert first[0] == 200 and b"</html>" in first[1]
    app.pool.shutdown()
    assert get(one) == first  # from memory, on the loop
    assert cache.in_memory(f"releases/{two}/") is None  # it would have to be rendered
    with pytest.raises(RuntimeError, match="after shutdown"):
        get(two)
    cache.close()
