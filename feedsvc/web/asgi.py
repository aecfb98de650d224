"""ASGI by hand, shared by the routes in web/: the message types, a response sent whole,
the two headers every generated answer has, and a request body read within a limit.

No framework (see app.py): these are the few lines a framework would have given us, in
one place so that every route answers with the same bytes (issue 13 item 3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, str, int]  # status, route label (for /metrics), body bytes


class TooLarge(Exception):
    """The request body is longer than the route accepts."""


def basic(ctype: bytes, body: bytes) -> Headers:
    """Content-Type and Content-Length, in that order, for a body built per request."""
    return [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]


async def respond(
    send: Send, status: int, headers: Headers, body: bytes, method: str, route: str = ""
) -> Answer:
    """Send a whole response; a HEAD gets the headers of the GET and no body."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
    return status, route, len(body)


def header(scope: Scope, name: bytes) -> str:
    """The first value of a request header (`name` in lower case), or ""."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body, refused (TooLarge) as soon as it is known to pass `limit` bytes:
    from Content-Length before reading, or while reading a body sent in chunks."""
    declared = header(scope, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)
