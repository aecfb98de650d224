"""A real HTTP server on 127.0.0.1 for channel and outbox tests: it records every request
and answers from a script.

    with Receiver() as r:
        r.answer(status=429, headers={"Retry-After": "7"})  # the first request gets this
        r.answer(status=200, delay=1.0)                      # the second, a second late
        ...                                                  # later ones get `default`
        r.requests[0].headers["webhook-id"]
"""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    client: tuple[str, int]  # the client's address and port: one per connection

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # Content-Length here overrides
    body: bytes = b""
    delay: float = 0.0  # seconds before the status line is sent


def verify(request: Request, secret: str) -> Any:
    """The payload of a request with a valid Standard Webhooks signature for `secret`;
    raises standardwebhooks.webhooks.WebhookVerificationError otherwise."""
    return Webhook(secret).verify(request.body, request.headers)


class Receiver:
    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer()
        self._answers: collections.deque[Answer] = collections.deque()
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = _Server(self)
        # A short poll interval, so that stop() does not wait half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def answer(
        self,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes | str = b"",
        delay: float = 0.0,
    ) -> None:
        """Queue the answer to the next request not yet answered."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._answers.append(Answer(status, dict(headers or {}), data, delay))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Request]:
        """The requests, once at least `count` have arrived; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self._requests)} requests, not {count}")
                self._arrived.wait(left)
            return list(self._requests)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed answers, which then give up
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _record(self, request: Request) -> Answer:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
            return self._answers.popleft() if self._answers else self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver
        self.connections: set[socket.socket] = set()

    def close_connections(self) -> None:
        # Kept-alive connections would otherwise hold their handler threads until the
        # client lets go.
        for sock in list(self.connections):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the client reset the connection
            super().handle()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver = self.server.receiver
        answer = receiver._record(
            Request(self.command, self.path, headers, body, self.client_address[:2])
        )
        if answer.delay and receiver._stopping.wait(answer.delay):
            self.close_connection = True
            return
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if "content-length" not in {name.lower() for name in answer.headers}:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:  # the client gave up: timed out, or read all it wanted
            self.close_connection = True

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass
