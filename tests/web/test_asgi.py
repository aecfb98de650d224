"""The ASGI helpers every route shares (issue 13 item 3), in process: a whole response, the
basic headers, and a body read within its limit."""

from __future__ import annotations

from typing import Any

import pytest

from feedsvc.web.asgi import TooLarge, basic, header, read_body, respond
from tests import aio


def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


def body_of(chunks: list[bytes], limit: int, *headers: tuple[bytes, bytes]) -> bytes:
    """Read a body sent as `chunks` (the last one ends it), counting what was received."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return aio.run(read_body(scope(*headers), receive, limit))


def test_basic_headers_are_type_then_length() -> None:
    assert basic(b"text/plain", b"four") == [
        (b"content-type", b"text/plain"),
        (b"content-length", b"4"),
    ]


@pytest.mark.parametrize(("method", "sent"), [("GET", b"hello"), ("HEAD", b"")])
def test_respond_sends_start_then_body_and_a_head_gets_no_body(method: str, sent: bytes) -> None:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    headers = basic(b"text/plain", b"hello")
    answer = aio.run(respond(send, 200, headers, b"hello", method, "/route"))
    assert answer == (200, "/route", 5)  # a HEAD counts the bytes a GET would send
    assert messages == [
        {"type": "http.response.start", "status": 200, "headers": headers},
        {"type": "http.response.body", "body": sent},
    ]


def test_header_is_the_first_value_or_empty() -> None:
    got = scope((b"origin", b"https://a.example"), (b"origin", b"https://b.example"))
    assert header(got, b"origin") == "https://a.example"
    assert header(got, b"referer") == ""
    assert header(scope((b"x", b"caf\xe9")), b"x") == "café"  # latin-1, never an error


def test_a_body_in_chunks_is_joined() -> None:
    assert body_of([b"ab", b"", b"cd"], 4) == b"abcd"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(TooLarge):
        body_of([], 4, (b"content-length", b"5"))  # no message is there to receive


def test_chunks_over_the_limit_are_refused_whatever_was_declared() -> None:
    with pytest.raises(TooLarge):
        body_of([b"abc", b"de"], 4, (b"content-length", b"1"))


def test_a_disconnect_ends_the_body() -> None:
    messages = [{"type": "http.request", "body": b"ab", "more_body": True}]
    messages.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    assert aio.run(read_body(scope(), receive, 10)) == b"ab"
