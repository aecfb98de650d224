"""Run a coroutine to the end from a synchronous test.

In a whole-suite run, Playwright's sync API (tests/browser) leaves an event loop running
in the main thread, and `asyncio.run` refuses to start beside it; a thread of its own has
no loop, so the coroutine runs there the same way whatever ran before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1, thread_name_prefix="test-asyncio") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def answer(app: Any, scope: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One request with an empty body through an ASGI app, in process: the response's start
    message and its body message."""

    async def call() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    start, body = run(call())
    return start, body
