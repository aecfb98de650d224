"""Conditional GET and content negotiation (RFC 9110): which answer a request's
headers ask for. Pure functions of header bytes, called on the hot path."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from feedsvc.publishing.ready import Ready, ResponseHeaders


def answer(
    found: Ready,
    method: str,
    inm: bytes | None,
    ims: bytes | None,
    gzip_ok: bool,
    dest: bytes | None = None,
) -> tuple[int, ResponseHeaders, bytes, int]:
    """A document's answer to a GET or HEAD: (status, headers, body, bytes), 304 or 200,
    identity or gzip (`gzip_ok`: Accept-Encoding admits it), with or without a body. A
    plain call: the app's hot path awaits only its two sends (issue 18 item 3)."""
    if dest is not None and found.browser is not None and dest == b"document":
        # Issue 12 item 3: a browser navigating to a feed gets its page, with its own
        # ETag; readers, curl and fetch() never send `document` (a forbidden header).
        found = found.browser
    packed = gzip_ok and found.gzip is not None
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it.
    if inm is not None:
        # Usually exactly the ETag we sent; etag_matches handles lists, W/ and *.
        fresh = inm == found.etag_bytes or inm == found.gzip_etag_bytes or etag_matches(inm, found)
    else:
        fresh = ims is not None and not_modified_since(ims, found.modified)
    if fresh:
        headers = found.not_modified_gzip_headers if packed else found.not_modified_headers
        return 304, headers, b"", 0
    headers = found.ok_gzip_headers if packed else found.ok_headers
    body: bytes = found.gzip if packed else found.body  # type: ignore[assignment]
    return 200, headers, b"" if method == "HEAD" else body, len(body)


def accepts_gzip(header: bytes) -> bool:
    """Accept-Encoding admits gzip (RFC 9110 12.5.3): listed, or '*', and not with q=0."""
    header = header.lower()
    if b"gzip" not in header and b"*" not in header:
        return False
    star = None
    for item in header.split(b","):
        coding, _, params = item.partition(b";")
        coding = coding.strip()
        q = 1.0
        for param in params.split(b";"):
            key, _, value = param.partition(b"=")
            if key.strip() == b"q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in (b"gzip", b"x-gzip"):
            return q > 0
        if coding == b"*":
            star = q > 0
    return bool(star)


def etag_matches(header: bytes, doc: Ready) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 13.1.2); either of our two variants
    names the same content."""
    if header == doc.etag_bytes or header == doc.gzip_etag_bytes:
        return True  # the usual case: exactly the ETag we sent
    text = header.decode("latin-1").strip()
    if text == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in text.split(",")}
    return doc.etag in tags or doc.gzip_etag in tags


def not_modified_since(header: bytes, modified: float | None) -> bool:
    if modified is None:
        return False
    try:
        since = parsedate_to_datetime(header.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False  # RFC 9110 13.1.3: an invalid date is ignored
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return modified <= since.timestamp()
