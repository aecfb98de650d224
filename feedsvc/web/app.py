"""The ASGI application: documents from the cache with conditional GET and compression.

No framework: the hot path is a dict lookup and one `send` of precomputed bytes, so
routing, caching and logging stay within a few percent of a bare ASGI app.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from feedsvc import layout
from feedsvc.layout import FEED_ROUTES, route_of
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.file_lookup import FileLookup, ServedFile
from feedsvc.publishing.ready import Missing, Ready
from feedsvc.store.outage import OUTAGES, RETRY_AFTER_SECONDS, is_unreachable
from feedsvc.web.access_log import anonymise, log_middle, logged_agent
from feedsvc.web.asgi import Answer, Receive, Scope, Send, basic, respond
from feedsvc.web.clients import LOOPBACK, Clients, allowed, networks
from feedsvc.web.conditional import accepts_gzip, etag_matches, not_modified_since
from feedsvc.web.files import FileSender
from feedsvc.web.metrics import Metrics
from feedsvc.web.readers import FeedReaders

# (scope, receive, send, method, path below the base path) -> (status, route, bytes), or
# None when the path is not one of its routes.
Dynamic = Callable[[Scope, Receive, Send, str, str], Awaitable[Answer | None]]

_ALLOWED = b"GET, HEAD"
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_BYTES = 8 * 1024
LOG_FLUSH_SECONDS = 0.5
_ERROR_MAX_AGE = 60
_MISSING_STATUS = {Missing.NOT_FOUND: 404, Missing.GONE: 410}
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
        self.log = access_log
        self.log_json = access_log is not None and not access_log.isatty()
        self.dynamic = dynamic  # routes answered by code, not from the cache (sharing)
        self.clients = clients or Clients()  # who is asking, behind server.trusted_proxies
        self.metrics_allow = networks(metrics_allow)
        # Rendering a cold document, or asking the database, never blocks the event loop.
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="render")
        self.files = files  # releases' pictures and attachments (issue 14)
        self.file_sender = FileSender(self.pool)
        self._flusher: asyncio.Task[None] | None = None
        self._accept_cache: dict[bytes, bool] = {}
        self._routes: dict[str, str] = {}
        self._base_len = len(base_path)
        self._clients: dict[str, str] = {}  # address -> shortened, for the access log
        self._middles: dict[tuple[str, str], str] = {}  # (method, path) -> its part of a line
        self._agents: dict[bytes | None, str] = {}  # User-Agent -> a JSON string, for the log
        self.readers = readers  # who reads the feeds, gathered here, stored by a job
        self._second = -1
        self._stamp = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        # The hot path (a cached document, GET or HEAD) comes first and stays short: it
        # is what feed readers hit, thousands of times a second.
        started = time.time() if self.log is not None else 0.0
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
                if self.log is not None:
                    self._log(scope, 500, 0, started, agent)
                raise
        else:
            status, size = await self._reply(send, found, method, inm, ims, accept, dest)
            route = self._routes.get(found.path) or self._route(found.path)
        self.metrics.requests[(route, status)] += 1
        short = self._log(scope, status, size, started, agent) if self.log is not None else ""
        if (
            self.readers is not None
            and route in FEED_ROUTES
            and (status == 200 or status == 304)
            and dest != b"document"  # a person opening the feed's page is no subscription
        ):
            # `started`: the request's time when the log is on (one clock call a request).
            network = short or self._short(self.clients.address(scope))
            self.readers.seen(path, agent, network, started)

    async def _reply(
        self,
        send: Send,
        found: Ready,
        method: str,
        inm: bytes | None,
        ims: bytes | None,
        accept: bytes | None,
        dest: bytes | None = None,
    ) -> tuple[int, int]:
        """Send a document: 304 or 200, identity or gzip, with or without a body (HEAD)."""
        if dest is not None and found.browser is not None and dest == b"document":
            # Issue 12 item 3: a browser navigating to a feed gets its page, with its own
            # ETag; readers, curl and fetch() never send `document` (a forbidden header).
            found = found.browser
        packed = found.gzip is not None and accept is not None and self._gzip_ok(accept)
        # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it.
        if inm is not None:
            # Usually exactly the ETag we sent; etag_matches handles lists, W/ and *.
            fresh = (
                inm == found.etag_bytes or inm == found.gzip_etag_bytes or etag_matches(inm, found)
            )
        else:
            fresh = ims is not None and not_modified_since(ims, found.modified)
        if fresh:
            status, size, body = 304, 0, b""
            headers = found.not_modified_gzip_headers if packed else found.not_modified_headers
        else:
            status = 200
            headers = found.ok_gzip_headers if packed else found.ok_headers
            body = found.gzip if packed else found.body  # type: ignore[assignment]
            size = len(body)
            if method == "HEAD":
                body = b""
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return status, size

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
                found = await loop.run_in_executor(self.pool, self.cache.get, rel)
        except Exception as e:
            if not is_unreachable(e):
                raise
            return await self._unavailable(send, e, method, rel, self._route(rel))
        if isinstance(found, Missing):
            return await self._missing(send, found, method, rel)
        if isinstance(found, ServedFile):  # streamed from disk, never held whole
            status, size = await self.file_sender.send(scope, receive, send, method, found)
        else:
            status, size = await self._reply(send, found, method, *conditions)
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

    def _short(self, address: str) -> str:
        """The client's address as the log shows it (anonymise), remembered."""
        short = self._clients.get(address)
        if short is None:
            short = anonymise(address) if address else "-"
            if len(self._clients) > 4096:
                self._clients.clear()
            self._clients[address] = short
        return short

    def _log(
        self, scope: Scope, status: int, size: int, started: float, agent: bytes | None = None
    ) -> str:
        """One line per request, built by hand: json.dumps, datetime and float formatting
        per request would cost a third of the server's time under load. Returns the
        client's shortened address (the feed readers count it too)."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        short = self._short(self.clients.address(scope))
        ua = self._agents.get(agent)
        if ua is None:
            ua = logged_agent(agent)
            if len(self._agents) > 4096:
                self._agents.clear()
            self._agents[agent] = ua
        path = scope["path"]
        millis = int(now * 1000) % 1000
        micros = int((now - started) * 1_000_000)
        assert self.log is not None
        if self.log_json:
            middle = self._middles.get((scope["method"], path))
            if middle is None:
                middle = log_middle(scope["method"], path)
                if len(self._middles) > 4096:
                    self._middles.clear()
                self._middles[(scope["method"], path)] = middle
            self.log.write(
                f'{{"time":"{self._stamp}.{millis:03d}Z{middle}{status},"bytes":{size},'
                f'"us":{micros},"client":"{short}","ua":{ua}}}\n'
            )
        else:
            self.log.write(
                f"{self._stamp}Z {short} {scope['method']} {path} {status} {size} {micros}us"
                f" {'-' if agent is None else ua}\n"
            )
        return short

    async def _flush_log(self) -> None:
        """Access-log lines reach their reader within LOG_FLUSH_SECONDS, without a write
        system call per request on the hot path."""
        assert self.log is not None
        while True:
            await asyncio.sleep(LOG_FLUSH_SECONDS)
            self.log.flush()

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
                if self.log is not None:
                    self._flusher = asyncio.get_running_loop().create_task(self._flush_log())
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                if self._flusher is not None:
                    self._flusher.cancel()
                if self.log is not None:
                    self.log.flush()
                if self.on_shutdown is not None:
                    await asyncio.get_running_loop().run_in_executor(None, self.on_shutdown)
                self.pool.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return
