"""The ASGI application: documents from the cache with conditional GET and compression.

No framework: the hot path is a dict lookup and one `send` of precomputed bytes, so
routing, caching and logging stay within a few percent of a bare ASGI app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from typing import Any, TextIO

from feedsvc import layout
from feedsvc.layout import FEED_ROUTES, route_of
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.file_lookup import FileLookup, ServedFile
from feedsvc.publishing.ready import Missing, Ready
from feedsvc.store.outage import OUTAGES, RETRY_AFTER_SECONDS, is_unreachable
from feedsvc.web.access_log import AccessLog, Request, Shortened
from feedsvc.web.asgi import Answer, Receive, Scope, Send, basic, respond
from feedsvc.web.clients import LOOPBACK, Clients, allowed, networks
from feedsvc.web.conditional import accepts_gzip, answer
from feedsvc.web.files import FileSender
from feedsvc.web.metrics import Metrics
from feedsvc.web.readers import FeedReaders

# (scope, receive, send, method, path below the base path) -> (status, route, bytes), or
# None when the path is not one of its routes.
Dynamic = Callable[[Scope, Receive, Send, str, str], Awaitable[Answer | None]]

_ALLOWED = b"GET, HEAD"
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_BYTES = 8 * 1024
LOG_FLUSH_SECONDS = 0.5  # access-log lines and feed-reader sightings reach their reader
ACCOUNT_EVERY = 512  # requests: their lines are made in slices of ~0.2 ms, not one long stall
_ERROR_MAX_AGE = 60
_MISSING_STATUS = {Missing.NOT_FOUND: 404, Missing.GONE: 410}
log = logging.getLogger(__name__)
_now = time.time
_STARTED, _AT = itemgetter(0), itemgetter(1)
_LABELS = itemgetter(8, 5)  # a Request's (route, status): its /metrics labels
_SIGHTING = itemgetter(8, 4, 7, 2, 5, 9)  # a Request's (route, path, agent, address, status, dest)
_UNAVAILABLE_JSON = b'{"error":"the database cannot be reached just now: try again in a moment"}'


class FeedApp:
    def __init__(
        self,
        cache: DocumentCache,
        metrics: Metrics,
        base_path: str = "/",
        health: Callable[[], bool] = lambda: True,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
        access_log: TextIO | None = None,
        dynamic: Dynamic | None = None,
        clients: Clients | None = None,
        metrics_allow: tuple[str, ...] = LOOPBACK,
        readers: FeedReaders | None = None,
        files: FileLookup | None = None,
    ) -> None:
        self.cache = cache
        self.metrics = metrics
        self.base_path = base_path
        self.health = health
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._shortened = Shortened()  # client addresses as the log and the readers show them
        self.log = AccessLog(access_log, self._shortened) if access_log is not None else None
        self.dynamic = dynamic  # routes answered by code, not from the cache (sharing)
        self.clients = clients or Clients()  # who is asking, behind server.trusted_proxies
        self.metrics_allow = networks(metrics_allow)
        # Rendering a cold document, or asking the database, never blocks the event loop.
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="render")
        self.files = files  # releases' pictures and attachments (issue 14)
        self.file_sender = FileSender(self.pool)
        self._flusher: asyncio.Task[None] | None = None
        # Issue 18 item 3: each request leaves a tuple here; its count, feed-reader sighting
        # and access-log line are made from these a batch at a time (_account).
        self._done: list[Request] = []
        self._accept_cache: dict[bytes, bool] = {}
        self._routes: dict[str, str] = {}
        self._base_len = len(base_path)
        self.readers = readers  # who reads the feeds, gathered here, stored by a job

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        # The hot path (a cached document, GET or HEAD) comes first and stays short: it
        # is what feed readers hit, thousands of times a second.
        started = _now()  # the one clock call before the answer
        method, path = scope["method"], scope["path"]
        inm = ims = accept = dest = None
        agent = None
        too_big = len(scope["headers"]) > MAX_HEADER_FIELDS
        for name, value in scope["headers"]:
            if len(value) > MAX_HEADER_FIELD_BYTES:
                too_big = True  # httptools sets no limit of its own
            elif name == b"if-none-match":
                inm = value
            elif name == b"accept-encoding":
                accept = value
            elif name == b"if-modified-since":
                ims = value
            elif name == b"sec-fetch-dest":
                dest = value
            elif name == b"user-agent":
                agent = value
        found = (
            self.cache.hot.get(path[self._base_len :]) if path.startswith(self.base_path) else None
        )
        if found is None or too_big or (method != "GET" and method != "HEAD"):
            try:
                status, route, size = await self._other(
                    scope, receive, send, method, path, too_big, (inm, ims, accept, dest)
                )
            except Exception:
                # Counted and logged like any answer; uvicorn answers 500 if nothing was sent.
                self.metrics.requests[("other", 500)] += 1
                self._log(scope, 500, 0, started, agent)
                raise
        else:
            packed = accept is not None and self._gzip_ok(accept)
            status, headers, body, size = answer(found, method, inm, ims, packed, dest)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            route = self._routes.get(found.path) or self._route(found.path)
        # Issue 18 item 3: a request's bookkeeping is this tuple; _account makes its count,
        # its feed-reader sighting and its log line with a few hundred others.
        done = self._done
        address = self.clients.address(scope)
        done.append((started, _now(), address, method, path, status, size, agent, route, dest))
        if len(done) >= ACCOUNT_EVERY:
            self._account()

    async def _other(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        path: str,
        too_big: bool,
        conditions: tuple[bytes | None, bytes | None, bytes | None, bytes | None],
    ) -> Answer:
        """Everything off the hot path: errors, health, metrics, cold documents."""
        if too_big:
            # RFC 6585: 431
            return await self._plain(send, 431, b"request headers too large\n", method)
        if self.dynamic is not None and path.startswith(self.base_path):
            rel = path[self._base_len :]
            answer = await self._dynamic(self.dynamic, scope, receive, send, method, rel)
            if answer is not None:
                return answer
        if method != "GET" and method != "HEAD":
            return await self._plain(send, 405, b"method not allowed\n", method)
        if path == "/healthz":
            return await self._healthz(send, method)
        if path == "/metrics":
            return await self._metrics(scope, send, method)
        if not path.startswith(self.base_path):
            return await self._missing(send, Missing.NOT_FOUND, method)
        return await self._cold(scope, receive, send, method, path[self._base_len :], conditions)

    async def _dynamic(
        self, dynamic: Dynamic, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """The share routes' answer, or None when `rel` is not theirs; 503 while the
        database is out of reach, unless their answer has begun."""
        sent = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal sent
            sent = True
            await send(message)

        try:
            return await dynamic(scope, receive, watched, method, rel)
        except Exception as e:
            if sent or not is_unreachable(e):
                raise  # a defect; or an answer begun, which cannot be taken back
            return await self._unavailable(send, e, method, rel, "other")

    async def _metrics(self, scope: Scope, send: Send, method: str) -> Answer:
        if not allowed(self.clients.address(scope), self.metrics_allow):
            return await self._missing(send, Missing.NOT_FOUND, method)
        self._account()  # the requests answered before this one are in its counts
        # Its gauges ask the database: off the event loop, and 503 while it is out.
        try:
            body = await asyncio.get_running_loop().run_in_executor(self.pool, self.metrics.render)
        except Exception as e:
            if not is_unreachable(e):
                raise
            return await self._unavailable(send, e, method, "metrics", "/metrics")
        ctype = b"text/plain; version=0.0.4; charset=utf-8"
        status, _, size = await respond(send, 200, basic(ctype, body), body, method)
        return status, "/metrics", size

    async def _cold(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        rel: str,
        conditions: tuple[bytes | None, bytes | None, bytes | None, bytes | None],
    ) -> Answer:
        """A document not in the hot dict, or a release's file: fetched (maybe rendered)
        off the event loop."""
        loop = asyncio.get_running_loop()
        files = self.files
        language, target = (
            layout.split(layout.parse(rel, self.cache.sites.prefixed))
            if files is not None
            else (None, None)
        )
        found: Ready | ServedFile | Missing
        try:
            if files is not None and isinstance(target, layout.ReleaseFile):  # issue 14
                found = await loop.run_in_executor(self.pool, files.get, target, language)
            else:
                # In memory: answered here. A thread's turn costs the request up to a GIL
                # switch interval (5 ms) on a busy loop, and the loop the thread's time.
                known = self.cache.in_memory(rel)
                found = (
                    known
                    if known is not None
                    else await loop.run_in_executor(self.pool, self.cache.get, rel)
                )
        except Exception as e:
            if not is_unreachable(e):
                raise
            return await self._unavailable(send, e, method, rel, self._route(rel))
        if isinstance(found, Missing):
            return await self._missing(send, found, method, rel)
        if isinstance(found, ServedFile):  # streamed from disk, never held whole
            status, size = await self.file_sender.send(scope, receive, send, method, found)
        else:
            inm, ims, accept, dest = conditions
            packed = accept is not None and self._gzip_ok(accept)
            status, headers, body, size = answer(found, method, inm, ims, packed, dest)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        return status, self._route(rel), size

    def _route(self, rel: str) -> str:
        route = self._routes.get(rel)
        if route is None:
            route = route_of(rel, self.cache.sites.prefixed)
            if len(self._routes) > 10_000:
                self._routes.clear()
            self._routes[rel] = route
        return route

    def _gzip_ok(self, accept: bytes) -> bool:
        """accepts_gzip, remembered: clients send a handful of distinct headers."""
        known = self._accept_cache.get(accept)
        if known is None:
            known = accepts_gzip(accept)
            if len(self._accept_cache) < 1024:
                self._accept_cache[accept] = known
        return known

    async def _missing(self, send: Send, missing: Missing, method: str, rel: str = "") -> Answer:
        page = self.cache.error_page(missing, rel) if self.cache.errors else None
        body = page.body if page is not None else b"not found\n"
        headers = basic(b"text/html; charset=utf-8", body)
        headers.append((b"cache-control", b"public, max-age=%d" % _ERROR_MAX_AGE))
        status, _, size = await respond(send, _MISSING_STATUS[missing], headers, body, method)
        return status, "other", size

    async def _unavailable(
        self, send: Send, error: Exception, method: str, rel: str, route: str
    ) -> Answer:
        """503 with Retry-After while the database is out of reach (issue 11): JSON for
        the API, a page for people; the outage is logged once a minute, not per request."""
        OUTAGES.failed(error, "answering 503")
        if isinstance(layout.parse(rel), layout.Api):
            body, ctype = _UNAVAILABLE_JSON, b"application/json"
        else:
            page = self.cache.unavailable
            body = page.body if page is not None else b"try again in a moment\n"
            ctype = b"text/html; charset=utf-8" if page is not None else b"text/plain"
        headers = basic(ctype, body)
        headers += [(b"retry-after", b"%d" % RETRY_AFTER_SECONDS), (b"cache-control", b"no-store")]
        status, _, size = await respond(send, 503, headers, body, method)
        return status, route, size

    async def _healthz(self, send: Send, method: str) -> Answer:
        loop = asyncio.get_running_loop()
        try:
            ok = await loop.run_in_executor(self.pool, self.health)
        except Exception:  # the check itself failing is the answer
            ok = False
        body = json.dumps({"status": "ok" if ok else "failing", "database": ok}).encode()
        headers = basic(b"application/json", body)
        headers.append((b"cache-control", b"no-store"))
        status, _, size = await respond(send, 200 if ok else 503, headers, body, method)
        return status, "/healthz", size

    async def _plain(self, send: Send, status: int, body: bytes, method: str) -> Answer:
        headers = basic(b"text/plain; charset=utf-8", body)
        if status == 405:
            headers.append((b"allow", _ALLOWED))
        await respond(send, status, headers, body, method)
        return status, "other", len(body)

    def _log(
        self, scope: Scope, status: int, size: int, started: float, agent: bytes | None = None
    ) -> None:
        """A request's line written at once, after the lines of the requests before it:
        for an answer that failed (it is counted, and never a feed fetch)."""
        self._account()
        if self.log is not None:
            address = self.clients.address(scope)
            request = (started, _now(), address, scope["method"], scope["path"], status, size)
            self.log.write([(*request, agent, "other", None)])
            self.log.flush()

    def _account(self) -> None:
        """Count the requests done since the last call, hand their feed sightings to the
        readers and write their access-log lines (issue 18 item 3): once a tick, every
        ACCOUNT_EVERY requests and before /metrics answers, on the event loop, in one go."""
        done = self._done
        if not done:
            return
        self._done = []
        self.metrics.requests.update(map(_LABELS, done))  # counted in C
        if self.readers is not None:
            self._sightings(done)
        if self.log is not None:
            self.log.write(done)

    def _sightings(self, done: list[Request]) -> None:
        """Feed fetches (200 or 304 of a feed route, not a browser opening its page) to
        the readers: once per distinct (feed, User-Agent, client) with the latest time it
        was seen, in the order of those times, which leaves the readers as a call per
        fetch would (the latest report of a fetcher wins; a client counts once a day).
        The grouping is done in C (dict, zip, map): a batch costs little per request."""
        starts = list(map(_STARTED, done))
        events = list(dict(zip(map(_SIGHTING, done), starts, strict=True)).items())
        if int(min(starts) // 86400) != int(max(starts) // 86400):  # the batch spans 0:00 UTC
            events += dict(
                zip(map(_SIGHTING, reversed(done)), reversed(starts), strict=True)
            ).items()
        events.sort(key=_AT)
        readers = self.readers
        assert readers is not None
        for (route, path, agent, address, status, dest), at in events:
            if route in FEED_ROUTES and (status == 200 or status == 304) and dest != b"document":
                readers.seen(path, agent, self._shortened(address), at)

    async def _tick(self) -> None:
        """Counts, sightings and log lines reach their reader within LOG_FLUSH_SECONDS,
        without a write system call per request."""
        while True:
            await asyncio.sleep(LOG_FLUSH_SECONDS)
            try:
                self._account()
                if self.log is not None:
                    self.log.flush()
            except Exception:  # a full disk, say: the next tick tries again
                log.exception("access log or feed readers: a batch was lost")

    # -- lifespan --------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                try:
                    if self.on_startup is not None:
                        await asyncio.get_running_loop().run_in_executor(None, self.on_startup)
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                self._flusher = asyncio.get_running_loop().create_task(self._tick())
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                if self._flusher is not None:
                    self._flusher.cancel()
                self._account()  # every request has ended (uvicorn waits for them first)
                if self.log is not None:
                    self.log.flush()
                if self.on_shutdown is not None:
                    await asyncio.get_running_loop().run_in_executor(None, self.on_shutdown)
                self.pool.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return
