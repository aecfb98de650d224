"""A rendered document's answers, built once and named (issue 13 item 3): the response headers
of 200, 200 gzip, 304 and 304 gzip, and the ETags they carry, byte for byte."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import pickle

from feedsvc.publishing.cache import Ready
from feedsvc.publishing.site import Document

MODIFIED = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
FEED = Document(
    "feed.xml",
    "application/rss+xml; charset=utf-8",
    b"<rss>" + b"<item>news</item>" * 40 + b"</rss>",
    modified=MODIFIED,
    links=(("https://press.example.org/feed.xml", "self"),),
)


def test_the_four_answers_of_a_document_with_gzip() -> None:
    ready = Ready.of(FEED, 900)
    assert ready.gzip is not None and gzip.decompress(ready.gzip) == FEED.body
    tag, gz_tag = ready.etag.encode(), ready.gzip_etag.encode()
    assert (ready.etag_bytes, ready.gzip_etag_bytes) == (tag, gz_tag)
    assert gz_tag == tag[:-1] + b'-gz"'

    def common(etag: bytes) -> tuple[tuple[bytes, bytes], ...]:
        return (
            (b"etag", etag),
            (b"cache-control", b"public, max-age=900"),
            (b"vary", b"Accept-Encoding"),
            (b"last-modified", b"Fri, 27 Nov 2026 09:30:00 GMT"),
            (b"link", b'<https://press.example.org/feed.xml>; rel="self"'),
        )

    ctype = (b"content-type", b"application/rss+xml; charset=utf-8")
    assert ready.ok_headers == (
        *common(tag),
        ctype,
        (b"content-length", b"%d" % len(FEED.body)),
    )
    assert ready.ok_gzip_headers == (
        *common(gz_tag),
        ctype,
        (b"content-length", b"%d" % len(ready.gzip)),
        (b"content-encoding", b"gzip"),
    )
    assert ready.not_modified_headers == common(tag)
    assert ready.not_modified_gzip_headers == common(gz_tag)


def test_without_gzip_the_gzip_answers_are_the_identity_ones() -> None:
    small = Ready.of(dataclasses.replace(FEED, body=b"<rss/>"), 60)
    assert small.gzip is None
    assert small.ok_gzip_headers == small.ok_headers
    assert small.not_modified_gzip_headers == small.not_modified_headers
    assert small.gzip_etag_bytes == small.etag_bytes == small.etag.encode()
    assert (b"vary", b"Accept-Encoding") not in small.ok_headers


def test_the_answers_survive_the_disk_cache_and_follow_a_change() -> None:
    ready = Ready.of(FEED, 900)
    back = pickle.loads(pickle.dumps(ready, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == ready
    named = ("ok_headers", "ok_gzip_headers", "not_modified_headers", "not_modified_gzip_headers")
    for name in (*named, "etag_bytes", "gzip_etag_bytes"):
        assert getattr(back, name) == getattr(ready, name), name
    # Built from the fields, never given: a changed document has its own answers.
    shorter = dataclasses.replace(ready, max_age=60)
    assert (b"cache-control", b"public, max-age=60") in shorter.not_modified_headers
