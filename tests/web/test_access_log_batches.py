"""The access log made a batch at a time (issue 18 item 3): a line for every request, in
the file within the flush interval and at shutdown, escaped whether its pieces were
remembered or not, with caches that stay bounded whatever clients send; and the feed
sightings handed to the readers a batch at a time leave them as a call per fetch did."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil
import socket
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feedsvc.publishing.cache import DocumentCache
from feedsvc.web import app as app_module
from feedsvc.web.access_log import MAX_REMEMBERED, AccessLog, Shortened
from feedsvc.web.app import LOG_FLUSH_SECONDS, FeedApp
from feedsvc.web.metrics import Metrics
from feedsvc.web.readers import FeedReaders
from tests.conftest import SEED, Newsroom
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

FIELDS = {"time", "method", "path", "status", "bytes", "us", "client", "ua"}
HOSTILE_AGENTS = [
    b'x","status":200,"client":"6.6.6.6',
    b'\\n{"status":200}',
    b"tab\there",
    "caf\u00e9 \u2028line\u2029para \u0085nel".encode(),
    b"\xff\xfe not utf-8 \xc3",
    b"B" * 7_000,  # longer than what is remembered: escaped each time
]
HOSTILE_PATHS = [
    '/x","status":200,"client":"6.6.6.6',
    "/line\nbreak",
    "/back\\slash",
    "/caf\u00e9\u2028",
    "/" + "p" * 3_000,  # longer than what is remembered
]


class File(io.StringIO):
    """An access log that is not a terminal: JSON lines."""

    def isatty(self) -> bool:
        return False


def _request(
    path: str = "/feed.xml",
    agent: bytes | None = None,
    status: int = 200,
    at: float = 1_765_000_000.25,
    address: str = "192.0.2.7",
    route: str = "/feed.xml",
    dest: bytes | None = None,
) -> tuple:
    return (at, at + 0.000123, address, "GET", path, status, 10, agent, route, dest)


def _fetch(app: FeedApp, path: str, *headers: tuple[bytes, bytes]) -> None:
    """One request through the app in process (its sends never wait)."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [(b"host", b"x"), *headers],
        "client": ("192.0.2.7", 5000),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    with contextlib.suppress(StopIteration):  # it never waits: done in one step
        app(scope, receive, send).send(None)


# -- in process ---------------------------------------------------------------------------------


def test_hostile_paths_and_agents_stay_one_line_each_remembered_or_not() -> None:
    out = File()
    log = AccessLog(out)
    requests = [_request(p, a) for p in HOSTILE_PATHS for a in HOSTILE_AGENTS]
    log.write(requests)
    log.write(requests)  # the second time from the remembered pieces
    lines = out.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 2 * len(requests) + 1
    entries = [json.loads(line) for line in lines[:-1]]
    for entry, (_, _, _, _, path, _, _, agent, _, _) in zip(entries, requests * 2, strict=True):
        assert set(entry) == FIELDS
        assert entry["path"] == path
        assert entry["ua"] == agent.decode("utf-8", "replace")[:256]
        assert entry["client"] == "192.0.2.0" and entry["us"] == 123
        assert entry["time"] == "2025-12-06T05:46:40.250Z"  # 1,765,000,000.25 s
    assert "6.6.6.6" not in {e["client"] for e in entries}


def test_the_caches_of_line_pieces_stay_bounded_under_made_up_paths_and_agents() -> None:
    out = File()
    log = AccessLog(out)

    def flood(first: int, count: int) -> None:  # each request a new path and User-Agent
        for start in range(first, first + count, 512):
            log.write([_request(f"/n/{i}", b"bot %d" % i) for i in range(start, start + 512)])
            out.seek(0)
            out.truncate()

    flood(0, 2 * MAX_REMEMBERED)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        flood(2 * MAX_REMEMBERED, 3 * MAX_REMEMBERED)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(log._pieces) <= MAX_REMEMBERED
    # Unbounded, 12,288 more pieces would hold ~4 MiB; bounded, at most one cache's worth.
    assert grown < 2.5 * 2**20, grown


def test_the_shortened_addresses_stay_bounded() -> None:
    short = Shortened()
    for i in range(MAX_REMEMBERED + 100):
        assert short(f"10.{i // 250}.{i % 250}.9") == f"10.{i // 250}.{i % 250}.0"
    assert len(short._known) <= MAX_REMEMBERED


def test_every_request_of_a_burst_has_its_line(newsroom: Newsroom, tmp_path: Path) -> None:
    newsroom.add("news.txt", "Big news", "November 26, 2026")
    newsroom.ingest()
    cache = DocumentCache(newsroom.site, newsroom.store.releases, tmp_path / "cache")
    cache.load()
    out = File()
    app = FeedApp(cache, Metrics(), access_log=out)
    burst = 3 * app_module.ACCOUNT_EVERY + 7
    for i in range(burst):
        _fetch(app, "/feed.xml", (b"user-agent", b"probe %d" % i))
    # Written a batch of ACCOUNT_EVERY at a time; the rest waits for the tick.
    assert len(out.getvalue().splitlines()) == 3 * app_module.ACCOUNT_EVERY
    app._account()  # what the tick does
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["ua"] for e in entries] == [f"probe {i}" for i in range(burst)]
    assert {e["status"] for e in entries} == {200} and app._done == []
    cache.close()


def test_sightings_given_a_batch_at_a_time_leave_the_latest_report() -> None:
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {} subscribers)"
    readers = FeedReaders(lambda v: v)
    app = FeedApp(None, Metrics(), readers=readers)  # type: ignore[arg-type]
    t = 1_765_000_000.0
    app._done = [
        _request(agent=feedly.format(45).encode(), at=t),
        _request(agent=feedly.format(46).encode(), at=t + 0.1),
        _request(agent=feedly.format(45).encode(), at=t + 0.2),  # the latest: 45
        _request(agent=b"Miniflux/2.1", at=t + 0.3),
        _request(agent=b"Miniflux/2.1", at=t + 0.35),
        _request(agent=b"Miniflux/2.1", status=404, at=t + 0.4),  # not a fetch
        _request(agent=b"Browser", dest=b"document", at=t + 0.4),  # a person, not a reader
        _request(path="/", agent=b"Other/1", route="/", at=t + 0.4),  # not a feed
    ]
    app._account()
    reports, clients = readers.take()
    assert [(r.fetcher, r.subscribers) for r in reports] == [("Feedly", 45)]
    assert reports[0].seen == dt.datetime.fromtimestamp(t + 0.2, dt.UTC)
    assert len(clients) == 1  # Miniflux


def test_a_batch_over_midnight_counts_a_client_on_both_days() -> None:
    readers = FeedReaders(lambda v: v)
    app = FeedApp(None, Metrics(), readers=readers)  # type: ignore[arg-type]
    midnight = dt.datetime(2026, 12, 7, tzinfo=dt.UTC).timestamp()
    app._done = [
        _request(agent=b"Miniflux/2.1", at=midnight - 0.2),
        _request(agent=b"Miniflux/2.1", at=midnight - 0.1),
        _request(agent=b"Miniflux/2.1", at=midnight + 0.1),
    ]
    app._account()
    _, clients = readers.take()
    assert sorted(c.day for c in clients) == [dt.date(2026, 12, 6), dt.date(2026, 12, 7)]


# -- a live server ------------------------------------------------------------------------------


def _get(port: int, agent: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\n\r\n" % agent)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer.split(b" ", 2)[1]


def _burst(server: Server, probe: str, n: int) -> list[bytes]:
    """n requests on 8 connections at a time, each with the User-Agent "<probe> <i>"."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: _get(server.port, b"%s %d" % (probe.encode(), i)), range(n)))


def _probed(server: Server, probe: str) -> list[dict]:
    entries = [json.loads(line) for line in server.access_log().splitlines()]
    return [e for e in entries if (e["ua"] or "").startswith(probe + " ")]


def test_a_burst_is_logged_a_line_a_request_soon_and_at_shutdown(tmp_path: Path) -> None:
    server = Server(tmp_path / "svc")
    shutil.copy(SEED, server.items / SEED.name)
    server.start()
    try:
        statuses = _burst(server, "soon", 1200)
        assert statuses == [b"200"] * 1200
        t0 = time.monotonic()
        # Within the flush interval (and the time to read the file), not at the next 64 KiB.
        lines = wait_for(
            lambda: len(_probed(server, "soon")) >= 1200 and _probed(server, "soon"),
            timeout=LOG_FLUSH_SECONDS + 1.0,
            what="the burst's lines",
        )
        assert time.monotonic() - t0 < LOG_FLUSH_SECONDS + 1.0
        # The second burst: SIGTERM at once, before the next tick.
        assert _burst(server, "last", 300) == [b"200"] * 300
    finally:
        assert server.stop() in CLEAN_EXIT
    assert sorted(e["ua"] for e in lines) == sorted(f"soon {i}" for i in range(1200))
    last = _probed(server, "last")
    assert sorted(e["ua"] for e in last) == sorted(f"last {i}" for i in range(300))
    for entry in lines + last:
        assert set(entry) == FIELDS and (entry["path"], entry["status"]) == ("/feed.xml", 200)
