"""The answers of the routes answered by code (shares, issue 5; alerts, issue 16): HTML
pages, JSON and 405s that no one caches, with the pages' security headers."""

from __future__ import annotations

import json
from typing import Any

from feedsvc.publishing.pages import security_headers
from feedsvc.web.asgi import Answer, Headers, Send, respond

PRIVATE: Headers = [(b"cache-control", b"no-store"), *security_headers(b"'self'")]
LATER: Headers = [(b"retry-after", b"5")]  # the database was out of reach: try again soon


async def html(
    send: Send,
    status: int,
    body: bytes,
    route: str,
    method: str = "GET",
    headers: Headers | None = None,
) -> Answer:
    out = [(b"content-type", b"text/html; charset=utf-8"), *PRIVATE, *(headers or [])]
    out.append((b"content-length", str(len(body)).encode()))
    return await respond(send, status, out, body, method, route)


async def json_answer(
    send: Send,
    status: int,
    data: Any,
    route: str,
    method: str = "GET",
    headers: Headers | None = None,
) -> Answer:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    out = [(b"content-type", b"application/json"), *PRIVATE, *(headers or [])]
    out.append((b"content-length", str(len(body)).encode()))
    return await respond(send, status, out, body, method, route)


async def not_allowed(send: Send, allow: bytes) -> Answer:
    body = b"method not allowed\n"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", allow)]
    headers.append((b"content-length", str(len(body)).encode()))
    return await respond(send, 405, headers, body, "POST", "other")
