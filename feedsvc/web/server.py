"""uvicorn, set up for feedsvc: uvloop and httptools where available, our access log,
and a clean exit on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn


class GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM once it has shut down, which turns a clean stop into
    exit 130/143 (and a KeyboardInterrupt traceback). A stop we were asked for and finished
    is a success: exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def run_server(app: Any, host: str, port: int) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=_best("uvloop", "asyncio"),
        **_http_protocol(),
        lifespan="on",
        # uvicorn would take X-Forwarded-For from 127.0.0.1 by default: anyone on this host
        # could pick their address. feedsvc.web.clients decides, from server.trusted_proxies.
        proxy_headers=False,
        access_log=False,  # ours is one structured line per request
        log_level="warning",
        server_header=False,
    )
    # uvicorn handles SIGINT and SIGTERM: it stops accepting, finishes what is in flight,
    # then runs the lifespan shutdown (scheduler, cache, store).
    GracefulServer(config).run()


def _http_protocol() -> dict[str, Any]:
    """httptools with the header limits it lacks (feedsvc.web.protocol). Without httptools,
    h11: it answers 400 once it holds more than 16 KiB of an unfinished header block (so a
    flood is cut short), but lets a larger block through whole and sets no time limit."""
    try:
        from feedsvc.web.protocol import BoundedHttpToolsProtocol
    except ImportError:
        return {"http": "h11", "h11_max_incomplete_event_size": 16 * 1024}  # MAX_HEAD_BYTES
    return {"http": BoundedHttpToolsProtocol}


def _best(preferred: str, fallback: str) -> str:
    try:
        __import__(preferred)
    except ImportError:
        return fallback
    return preferred
