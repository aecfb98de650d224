"""A release's file over HTTP (issue 14): validators, ranges and a body streamed from disk.

A file may be a 50 MB video: it is sent in chunks read off the event loop, never held
whole in memory (documents are, in the DocumentCache; files are not). What a file is, and
whether it may be shown, is publishing/file_lookup.py's answer; this module only says
it in HTTP.

Range (RFC 9110 14): one range (`a-b`, `a-`, `-n`) gives 206; none satisfiable gives 416;
several ranges give the whole file (200), which 14.2 allows and which spares us
multipart/byteranges. If-Range is honoured with our strong ETag only: a date validator
(13.1.5) is answered with the whole file, which is always correct.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar
from urllib.parse import quote

from feedsvc.publishing.file_lookup import ServedFile
from feedsvc.web.asgi import Headers, Receive, Scope, Send
from feedsvc.web.conditional import not_modified_since

CHUNK = 256 * 1024  # bytes read and sent at a time
_IMMUTABLE = b"public, max-age=31536000, immutable"  # content-addressed: never changes
_RANGE = re.compile(r"bytes[ \t]*=[ \t]*(\d{0,18})-(\d{0,18})[ \t]*", re.IGNORECASE)
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9!#$&+.^_`|~-]")
T = TypeVar("T")


class Unsatisfiable:
    """A Range none of whose ranges lies within the file (RFC 9110 14.1.2)."""


UNSATISFIABLE = Unsatisfiable()


def byte_range(header: str, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """The one range asked for as (first, last), inclusive; None for the whole file (no
    Range, one we do not parse, another unit, several ranges)."""
    m = _RANGE.fullmatch(header)
    if m is None:
        return None
    first, last = m[1], m[2]
    if first == "":
        if last == "":
            return None  # "bytes=-": not a range-spec
        suffix = int(last)  # the last n bytes
        return UNSATISFIABLE if suffix == 0 or size == 0 else (max(0, size - suffix), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # invalid: ignored, 14.1.1
    if start >= size:
        return UNSATISFIABLE
    return start, size - 1 if last == "" else min(int(last), size - 1)


def content_disposition(name: str) -> bytes:
    """RFC 6266 `attachment`: a quoted ASCII fallback with nothing that could end the
    parameter or the header, and the exact name in RFC 5987 `filename*`."""
    fallback = _TOKEN_UNSAFE.sub("_", name.encode("ascii", "replace").decode("ascii"))
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=UTF-8''" + quote(name, safe="")
    return value.encode("ascii")


def file_headers(served: ServedFile) -> Headers:
    """What a 200, 206 and 304 for this file have in common."""
    cache = _IMMUTABLE if served.immutable else b"public, max-age=%d" % served.max_age
    if served.private:  # an embargoed release's file on a preview's token (issue 17)
        cache = b"private, no-store"
    headers = [
        (b"etag", served.etag.encode()),
        (b"last-modified", served.last_modified.encode()),
        (b"cache-control", cache),
        (b"accept-ranges", b"bytes"),
        (b"x-content-type-options", b"nosniff"),
        # A PDF, SVG or video from our origin must not run as our origin.
        (b"content-security-policy", b"sandbox"),
    ]
    if served.download:
        headers.append((b"content-disposition", content_disposition(served.name)))
    if served.private:  # the token is in the URL: no search engine, no Referer (issue 17)
        headers += [(b"x-robots-tag", b"noindex, nofollow"), (b"referrer-policy", b"no-referrer")]
    return headers


class FileSender:
    """Sends a release's file: 200, 206, 304 or 416, streamed from disk through `pool`."""

    def __init__(self, pool: Executor | None) -> None:
        self.pool = pool  # None: the event loop's default executor

    async def send(
        self, scope: Scope, receive: Receive, send: Send, method: str, served: ServedFile
    ) -> tuple[int, int]:
        """(status, body bytes sent)."""
        wanted = _request_headers(scope)
        headers = file_headers(served)
        if _fresh(wanted, served):
            # RFC 9110 15.4.5: the validators and the cache policy, no representation metadata
            headers = headers[:3]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return 304, 0
        fd = await self._run(os.open, served.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size  # the file being sent, whatever was looked up
            span = _span(method, wanted, served.etag, size)
            if isinstance(span, Unsatisfiable):
                return await _unsatisfiable(send, method, size)
            first, last = span if span is not None else (0, size - 1)
            length = last - first + 1
            status = 200 if span is None else 206
            if status == 206:
                headers.append((b"content-range", b"bytes %d-%d/%d" % (first, last, size)))
            headers += [
                (b"content-type", served.media_type.encode()),
                (b"content-length", b"%d" % length),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            if method == "HEAD" or length == 0:
                await send({"type": "http.response.body", "body": b""})
                return status, 0
            return status, await self._stream(receive, send, fd, first, length)
        finally:
            os.close(fd)

    async def _stream(self, receive: Receive, send: Send, fd: int, first: int, length: int) -> int:
        """Chunks from `fd` until `length` bytes are sent or the client has gone (uvicorn
        drops a send to a closed connection silently: the rest would be read for nothing)."""
        gone = asyncio.ensure_future(_disconnected(receive))
        sent = 0
        try:
            while sent < length and not gone.done():
                chunk = await self._run(os.pread, fd, min(CHUNK, length - sent), first + sent)
                if not chunk:
                    raise OSError(f"file shorter than the {length} bytes announced")
                sent += len(chunk)
                more = sent < length
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
        finally:
            gone.cancel()
        return sent

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, call, *args)


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone: after the request's body (empty for GET) the next
    message is the disconnect (ASGI). From a server that says otherwise, never."""
    message = await receive()
    while message["type"] == "http.request" and message.get("more_body"):
        message = await receive()
    if message["type"] != "http.disconnect":
        message = await receive()
    if message["type"] != "http.disconnect":
        await asyncio.get_running_loop().create_future()  # cannot tell: never gone


def _request_headers(scope: Scope) -> dict[bytes, bytes]:
    wanted = (b"if-none-match", b"if-modified-since", b"range", b"if-range")
    return {name: value for name, value in scope["headers"] if name in wanted}


def _fresh(wanted: dict[bytes, bytes], served: ServedFile) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) decides; If-Modified-Since only
    without it."""
    inm = wanted.get(b"if-none-match")
    if inm is not None:
        text = inm.decode("latin-1").strip()
        tags = {tag.strip().removeprefix("W/") for tag in text.split(",")}
        return text == "*" or served.etag in tags
    ims = wanted.get(b"if-modified-since")
    return ims is not None and not_modified_since(ims, served.modified)


def _span(
    method: str, wanted: dict[bytes, bytes], etag: str, size: int
) -> tuple[int, int] | Unsatisfiable | None:
    """The range to send; None for the whole file. Range is for GET only (14.2)."""
    header = wanted.get(b"range")
    if header is None or method != "GET":
        return None
    if_range = wanted.get(b"if-range")
    if if_range is not None and if_range.decode("latin-1").strip() != etag:
        return None  # the client's part is of another version, or validated by date
    return byte_range(header.decode("latin-1"), size)


async def _unsatisfiable(send: Send, method: str, size: int) -> tuple[int, int]:
    """416, stored by no cache (no cache policy of the file's own)."""
    body = b"range not satisfiable\n"
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"content-range", b"bytes */%d" % size),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 416, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
    return 416, len(body)
