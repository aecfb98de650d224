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
