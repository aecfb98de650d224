"""uvicorn's httptools protocol with the limits httptools lacks (issue 11): a request's header
block (request line, header fields, the empty line) may be at most MAX_HEAD_BYTES long and
must arrive within HEAD_SECONDS of its first byte, or of the connection's start.

Without them one 200 MB header line cost 45 s of server CPU, all of it on the event loop
that every other request waited for, and a client sending a byte a second kept its
connection for as long as it liked.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

if TYPE_CHECKING:
    from uvicorn._types import HTTPScope

MAX_HEAD_BYTES = 16 * 1024
HEAD_SECONDS = 10.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes of a header block only while one is incomplete: a request that
    arrives whole in one read (the usual case) costs a few comparisons and no timer.

    It overrides no parser callback (each would be a Python call per request): uvicorn gives
    every request a new `scope` when its request line begins (on_message_begin) and sets
    scope["method"] when its header block has ended (on_headers_complete), so a read began a
    request if `scope` changed, and left a header block open if "method" is not in it.
    """

    # A read is fed to the parser whole when no header block is half-read and it is within
    # MAX_HEAD_BYTES; otherwise piece by piece, never more than the room a half-read block
    # has left, so the parser sees at most MAX_HEAD_BYTES of any block. A block is counted
    # from the last end of a header block (CRLF CRLF) before it in the read (or piece) where
    # it began, or from that read's start: never less than it is, more only by the end of a
    # request body sent in the same read.
    _head_bytes = 0  # counted so far of the open header block; 0: none is open
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A new connection sending nothing, or a trickle, has as long as a started request.
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    # HttpToolsProtocol.data_received ends the keep-alive wait at any byte; here it ends when
    # a request begins, or more of a started one comes. llhttp skips empty lines between
    # requests, so a client sending CRLF now and then would otherwise hold a connection.

    def data_received(self, data: bytes) -> None:
        if self._head_bytes or len(data) > MAX_HEAD_BYTES:
            self._receive_in_pieces(data)
            return
        scope = self.scope
        try:  # inline, not a call: this is the path of nearly every request
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
            self._parser_stopped(e)
        if self.scope is not scope:  # a request began
            self._unset_keepalive_if_required()
            if "method" not in self.scope or self._head_timer is not None:
                self._fed(scope, data, 0, len(data))  # its header block is open, or it's the first

    def _receive_in_pieces(self, data: bytes) -> None:
        if self._head_bytes:
            self._unset_keepalive_if_required()
        view, start = memoryview(data), 0
        while start < len(data) and not self.transport.is_closing():
            stop = min(start + MAX_HEAD_BYTES - self._head_bytes, len(data))
            scope = self.scope
            try:
                self.parser.feed_data(view[start:stop])
            except (httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
                self._parser_stopped(e)
                return
            self._fed(scope, data, start, stop)
            start = stop

    def _fed(self, before: HTTPScope | None, data: bytes, start: int, stop: int) -> None:
        """After data[start:stop] went to the parser, `before` being the scope until then."""
        scope = self.scope
        if scope is None:
            return  # empty lines before the first request: the connection's timer runs on
        if scope is not before:  # a request began
            self._unset_keepalive_if_required()
            self._head_bytes = 0
            end = data.rfind(b"\r\n\r\n", start, stop)  # of the request before it
            if end >= 0:
                start = end + 4
        if "method" not in scope:  # its header block has not ended
            self._head_grew(stop - start)
        else:
            self._head_bytes = 0
            if self._head_timer is not None:
                self._stop_head_timer()

    def _parser_stopped(self, error: Exception) -> None:
        if isinstance(error, httptools.HttpParserError):
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        elif self._should_upgrade():
            self.handle_websocket_upgrade()
        else:
            self._unsupported_upgrade_warning()

    def _head_grew(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes >= MAX_HEAD_BYTES:  # and not ended: more is to come
            self._refuse(431, b"request headers too large\n")  # RFC 6585
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_bytes:
            self._refuse(408, b"request headers not received in time\n")  # RFC 9110 15.5.9
        elif not self.transport.is_closing():
            self.transport.close()  # nothing asked, nothing to answer

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, reason: bytes) -> None:
        """Answer and close, reading no more: the parser is never fed the rest."""
        self._stop_head_timer()
        if self.transport.is_closing():
            return
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(reason),
            b"connection: close\r\n\r\n",
            reason,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
