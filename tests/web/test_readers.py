"""Who reads the feeds (issue 12 item 11): the User-Agent in the access log, subscriber
counts parsed from real aggregators' User-Agents, kept in memory and stored by a job (never
a write per request), and `feedsvc stats --readers`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from feedsvc.layout import FEED_ROUTES, route_of
from feedsvc.store import Store
from feedsvc.store.readers import (
    KEEP_DAYS,
    ClientSighting,
    FeedReaderStore,
    ReaderReport,
)
from feedsvc.web.access_log import logged_agent
from feedsvc.web.readers import FeedReaders, parse_agent, reader_name
from tests.conftest import SEED, db_rows, new_database_url
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

NEWSBLUR = (
    "NewsBlur Feed Fetcher - 7 subscribers - https://www.newsblur.com/site/6043445/press "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/14.0.1 Safari/605.1.15)"
)
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

# (User-Agent as sent by the service, reader, fetcher identity, subscribers or None)
AGENTS = [
    (
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 45 subscribers; like FeedFetcher-Google)",
        "Feedly",
        "Feedly",
        45,
    ),
    ("Feedly/1.0 (+https://feedly.com/poller.html; 1 subscribers; )", "Feedly", "Feedly", 1),
    ("Mozilla/5.0 (compatible; inoreader.com; 12 subscribers)", "Inoreader", "Inoreader", 12),
    (NEWSBLUR, "NewsBlur", "NewsBlur site:6043445", 7),
    (
        "NewsBlur Feed Fetcher - 1 subscriber - http://www.newsblur.com/site/0000000/webpage",
        "NewsBlur",
        "NewsBlur site:0000000",
        1,
    ),
    ("Feedbin feed-id:1234 - 5 subscribers", "Feedbin", "Feedbin feed-id:1234", 5),
    (
        "Mozilla/5.0 (compatible; theoldreader.com; 3 subscribers; feed-id=5b7a1c2d)",
        "The Old Reader",
        "The Old Reader feed-id:5b7a1c2d",
        3,
    ),
    (
        "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 9 subscribers)",
        "BazQux",
        "BazQux",
        9,
    ),
    (
        "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 4 subscribers; "
        "feed-id=9048986372668769311)",
        "Google Feedfetcher",
        "Google Feedfetcher feed-id:9048986372668769311",
        4,
    ),
    (
        "Overcast/1.0 Podcast Sync (1190 subscribers; feed-id=554901; +http://overcast.fm/)",
        "Overcast",
        "Overcast feed-id:554901",
        1190,
    ),
    (
        "Netvibes (crawler/bot; http://www.netvibes.com; 5 subscribers; feedID: 12345)",
        "Netvibes",
        "Netvibes feed-id:12345",
        5,
    ),
    ("SomeAggregator/3.1 (+https://agg.example; 17 readers)", "SomeAggregator", None, 17),
    # Fetchers that report no count: "other clients".
    ("Mozilla/5.0 (compatible; Miniflux/2.0.50; +https://miniflux.app)", "Miniflux", None, None),
    ("FreshRSS/1.23.1 (Linux; https://freshrss.org)", "FreshRSS", None, None),
    ("NetNewsWire (RSS Reader; https://netnewswire.com/)", "NetNewsWire", None, None),
    ("Tiny Tiny RSS/22.08 (Unsupported) (https://tt-rss.org/)", "Tiny Tiny RSS", None, None),
    (
        "Mozilla/5.0 (compatible; Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher); "
        "like FeedFetcher-Google)",
        "Feedspot",
        None,
        None,
    ),
    (BROWSER, "Mozilla", None, None),
    ("curl/8.5.0", "curl", None, None),
    ("NewsBlur Feed Fetcher - 1000000000 subscribers", "NewsBlur", None, None),  # not believed
]


@pytest.mark.parametrize(("agent", "reader", "fetcher", "subscribers"), AGENTS)
def test_real_user_agents_are_read(
    agent: str, reader: str, fetcher: str | None, subscribers: int | None
) -> None:
    assert reader_name(agent) == reader
    report = parse_agent(agent)
    if subscribers is None:
        assert report is None
    else:
        assert report is not None
        assert (report.reader, report.subscribers) == (reader, subscribers)
        assert report.fetcher == (fetcher or reader)


def test_a_reader_name_is_safe_to_print() -> None:
    name = reader_name('Evil\x1b[31m/1.0 "x"; 3 subscribers')
    assert name == "Evil 31m"
    report = parse_agent("\x1b]0;owned\x07 - 3 subscribers")
    assert report is not None and report.reader.isprintable() and "\x1b" not in report.reader


def test_only_feed_routes_are_counted() -> None:
    feeds = ["feed.xml", "atom.xml", "feed.json", "sections/economy/atom.xml"]
    feeds += ["archive/3/feed.json"]
    assert all(route_of(rel) in FEED_ROUTES for rel in feeds)
    pages = ["", "releases/x/", "sections/economy/", "sitemap.xml", "page/2/", "assets/a.css"]
    assert not any(route_of(rel) in FEED_ROUTES for rel in pages)


@pytest.mark.parametrize(
    "agent",
    [
        b'x","status":200,"client":"6.6.6.6',
        b'\\n{"status":200}',
        b"tab\there \x7f del \x01\x1f",
        "caf\u00e9 \u2028line\u2029para \u0085nel".encode(),
        b"\xff\xfe not utf-8 \xc3",
        b"A" * 10_000,
    ],
)
def test_a_hostile_user_agent_stays_one_json_string(agent: bytes) -> None:
    logged = logged_agent(agent)
    assert logged.isascii() and logged.isprintable()
    assert len(logged.splitlines()) == 1
    line = f'{{"status":404,"client":"127.0.0.0","ua":{logged}}}'
    assert json.loads(line) == {
        "status": 404,
        "client": "127.0.0.0",
        "ua": agent.decode("utf-8", "replace")[:256],
    }
    assert logged_agent(None) == "null"


# -- the aggregate in memory, and the store ------------------------------------------------------


class Moments:
    """An injected clock for FeedReaders: seconds since the epoch, moved by hand."""

    def __init__(self, at: dt.datetime) -> None:
        self.t = at.timestamp()

    def __call__(self) -> float:
        return self.t


DAY0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def _store(tmp_path: Path, name: str = "feedsvc") -> Store:
    (tmp_path / "var").mkdir(exist_ok=True)
    return Store.open(new_database_url(tmp_path, name))


def test_the_latest_report_of_each_fetcher_counts(tmp_path: Path) -> None:
    clock = Moments(DAY0)
    readers = FeedReaders(lambda v: f"h{abs(hash(v)):x}"[:32], now=clock)
    feedly = b"Feedly/1.0 (+http://www.feedly.com/fetcher.html; 45 subscribers)"
    readers.seen("/feed.xml", feedly, "192.0.2.0")
    clock.t += 60
    readers.seen("/feed.xml", feedly.replace(b"45", b"46"), "192.0.2.0")
    readers.seen("/feed.xml", b"Feedbin feed-id:1 - 5 subscribers", "198.51.100.0")
    readers.seen("/feed.xml", b"Feedbin feed-id:2 - 3 subscribers", "198.51.100.0")
    readers.seen("/atom.xml", b"Feedbin feed-id:3 - 2 subscribers", "198.51.100.0")
    for _ in range(3):  # the same client thrice is one client
        readers.seen("/feed.xml", b"Miniflux/2.1", "203.0.113.0")
    readers.seen("/feed.xml", b"Miniflux/2.1", "203.0.114.0")  # another network
    readers.seen("/feed.xml", None, "203.0.113.0")  # no User-Agent at all
    store = _store(tmp_path)
    try:
        shelf = FeedReaderStore(store.engine)
        assert readers.flush(shelf) == 4 + 3  # reports, clients
        assert readers.take() == ([], [])  # the aggregate starts over
        rows = db_rows(_url(store), "SELECT client FROM feed_clients")
        assert all(len(c) <= 32 and "203.0" not in c and "Miniflux" not in c for (c,) in rows)
        [feed, atom] = shelf.audience(DAY0 + dt.timedelta(hours=1))
        assert feed.feed == "/feed.xml"
        assert [(r.reader, r.subscribers, r.fetchers) for r in feed.readers] == [
            ("Feedly", 46, 1),
            ("Feedbin", 8, 2),
        ]
        assert (feed.subscribers, feed.clients_today, feed.clients_week) == (54, 3, 3)
        assert (atom.feed, atom.subscribers, atom.clients_today) == ("/atom.xml", 2, 0)
    finally:
        store.close()


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_instances_combine_latest_report_wins_and_clients_are_a_union(tmp_path: Path) -> None:
    store = _store(tmp_path)
    try:
        a, b = FeedReaderStore(store.engine), FeedReaderStore(store.engine)
        later, earlier = DAY0 + dt.timedelta(minutes=5), DAY0
        day = DAY0.date()
        a.record(
            [ReaderReport("/feed.xml", "Feedly", "Feedly", 46, later)],
            [ClientSighting(day, "/feed.xml", "aa"), ClientSighting(day, "/feed.xml", "bb")],
        )
        # Another instance flushes afterwards what it saw before: it does not win.
        b.record(
            [ReaderReport("/feed.xml", "Feedly", "Feedly", 45, earlier)],
            [ClientSighting(day, "/feed.xml", "bb"), ClientSighting(day, "/feed.xml", "cc")],
        )
        [feed] = a.audience(DAY0 + dt.timedelta(hours=1))
        assert [(r.reader, r.subscribers) for r in feed.readers] == [("Feedly", 46)]
        assert (feed.clients_today, feed.clients_week) == (3, 3)
        # The next day: yesterday's clients count for the week, not for today.
        [feed] = a.audience(DAY0 + dt.timedelta(days=1))
        assert (feed.clients_today, feed.clients_week) == (0, 3)
        # A fetcher silent for a week no longer counts; a month on, it is forgotten.
        assert a.audience(DAY0 + dt.timedelta(days=6))[0].subscribers == 46
        assert a.audience(DAY0 + dt.timedelta(days=8)) == []
        assert a.purge(DAY0 + dt.timedelta(days=KEEP_DAYS + 1)) == 1 + 3
        assert a.audience(DAY0 + dt.timedelta(days=KEEP_DAYS + 1)) == []
    finally:
        store.close()


# -- a live service ------------------------------------------------------------------------------


def _stats(server: Server) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "stats", "--readers", "--config", str(server.config)],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(server: Server, table: str) -> list[tuple]:
    return db_rows(server.database_url, f"SELECT * FROM {table}")


def _with_seed(server: Server) -> Server:
    shutil.copy(SEED, server.items / SEED.name)
    return server


def test_live_counts_are_kept_in_memory_and_stored_at_shutdown(tmp_path: Path) -> None:
    server = _with_seed(Server(tmp_path / "svc", {"server": {"readers_flush_seconds": 3600}}))
    server.start()
    try:
        assert "no feed fetches recorded yet" in _stats(server)
        fetches = [
            ("/feed.xml", "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 45 subscribers)"),
            ("/feed.xml", "Mozilla/5.0 (compatible; inoreader.com; 12 subscribers)"),
            ("/feed.xml", "Feedbin feed-id:1234 - 5 subscribers"),
            ("/feed.xml", "Feedbin feed-id:99 - 3 subscribers"),
            ("/feed.xml", NEWSBLUR),
            ("/feed.xml", "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 46 subscribers)"),
            ("/feed.xml", "Mozilla/5.0 (compatible; Miniflux/2.0.50; +https://miniflux.app)"),
            ("/feed.xml", BROWSER),
            ("/feed.xml", BROWSER),
            ("/atom.xml", "Feedbin feed-id:7 - 2 subscribers"),
            # Not feeds, or not found: not counted.
            ("/", "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 500 subscribers)"),
            (
                "/nowhere/feed.xml",
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 9 subscribers)",
            ),
        ]
        for path, agent in fetches:
            server.get(path, User_Agent=agent)
        # A person opening the feed in a browser gets its page, and is no subscription.
        page = server.get(
            "/feed.xml", User_Agent="Navigator/1 - 999 subscribers", Sec_Fetch_Dest="document"
        )
        assert page.headers["Content-Type"].startswith("text/html")
        etag = server.get("/feed.xml").headers["ETag"]
        r = server.get(
            "/feed.xml", If_None_Match=etag, User_Agent="Feedbin feed-id:1234 - 6 subscribers"
        )
        assert r.status_code == 304  # a 304 is a fetch too: the latest report
        # Many requests, and nothing in the database yet: no write per request.
        assert _rows(server, "feed_readers") == [] and _rows(server, "feed_clients") == []
    finally:
        assert server.stop() in CLEAN_EXIT
    lines = _stats(server).splitlines()
    table = [line.split() for line in lines]
    assert lines[0].split()[:3] == ["feed", "reader", "subscribers"]
    assert table[1][:4] == ["/feed.xml", "Feedly", "46", "1"]
    rows = {(t[0], t[1]): t[2:] for t in table[1:]}
    assert rows[("/feed.xml", "Inoreader")][:2] == ["12", "1"]
    assert rows[("/feed.xml", "Feedbin")][:2] == ["9", "2"]  # 6 (its 304) + 3
    assert rows[("/feed.xml", "NewsBlur")][:2] == ["7", "1"]
    # all: 46 + 12 + 9 + 7 subscribers over 5 fetchers; Miniflux, the browser and the
    # test's own python-requests are the other clients.
    assert rows[("/feed.xml", "all")] == ["74", "5", "3", "3"]
    assert rows[("/atom.xml", "all")] == ["2", "1", "0", "0"]
    assert not any("500" in line or "nowhere" in line or "999" in line for line in lines)
    clients = _rows(server, "feed_clients")
    assert len(clients) == 3
    assert not any("127.0" in str(row) or "Mozilla" in str(row) for row in clients)


def test_live_counts_are_stored_by_the_periodic_job(tmp_path: Path) -> None:
    server = _with_seed(Server(tmp_path / "svc", {"server": {"readers_flush_seconds": 1}}))
    server.start()
    try:
        feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {} subscribers)"

        def stored() -> list[tuple]:
            return [row[2:4] for row in _rows(server, "feed_readers")]

        server.get("/feed.xml", User_Agent=feedly.format(10))
        assert wait_for(stored, timeout=5, what="the first flush") == [("Feedly", 10)]
        server.get("/sections/statements/feed.xml", User_Agent=feedly.format(3))
        server.get("/feed.xml", User_Agent=feedly.format(11))
        wait_for(lambda: ("Feedly", 11) in stored(), timeout=5, what="the next flush")
        assert sorted(stored()) == [("Feedly", 3), ("Feedly", 11)] or sorted(stored()) == [
            ("Feedly", 11)
        ]
    finally:
        assert server.stop() in CLEAN_EXIT


# -- the access log ------------------------------------------------------------------------------


def _raw_get(server: Server, path: str, agent: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(
            b"GET "
            + path.encode()
            + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: "
            + agent
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


HOSTILE = [
    b'x","status":200,"client":"6.6.6.6',
    b'\\n{"status":200}',
    b"tab\there",  # the one control character a header may hold; httptools refuses others
    "caf\u00e9 \u2028line\u2029para \u0085nel".encode(),
    b"\xff\xfe not utf-8 \xc3",
    b"B" * 7_000,  # under the 8 KiB field limit: logged, cut at 256 characters
    b"A" * 10_000,  # over it: 431, logged all the same
]


def test_the_access_log_has_the_user_agent_and_cannot_be_forged(tmp_path: Path) -> None:
    server = _with_seed(Server(tmp_path / "svc"))
    server.start()
    try:
        statuses = [
            _raw_get(server, f"/feed.xml?probe={i}", agent) for i, agent in enumerate(HOSTILE)
        ]
        server.get("/feed.xml?probe=plain", User_Agent="Feedbin feed-id:1 - 5 subscribers")
        server.get("/feed.xml?probe=none")  # requests sends its own User-Agent
    finally:
        assert server.stop() in CLEAN_EXIT
    assert statuses[:-1] == [b"HTTP/1.1 200 OK"] * (len(HOSTILE) - 1), statuses
    lines = server.access_log().splitlines()
    entries = [json.loads(line) for line in lines]  # every line parses
    feed = [e for e in entries if e["path"] == "/feed.xml" and e["status"] == 200]
    expected = [a.decode("utf-8", "replace")[:256] for a in HOSTILE[:-1]]
    assert [e["ua"] for e in feed[: len(expected)]] == expected
    for e in feed:
        assert set(e) == {"time", "method", "path", "status", "bytes", "us", "client", "ua"}
        assert e["client"] == "127.0.0.0"
    assert feed[len(expected)]["ua"] == "Feedbin feed-id:1 - 5 subscribers"
    too_big = [e for e in entries if e["status"] == 431]
    assert len(too_big) == 1 and too_big[0]["ua"] is None  # a field over 8 KiB is not read
    assert not any(e["status"] == 200 and e["client"] == "6.6.6.6" for e in entries)


def test_the_text_access_log_quotes_the_user_agent() -> None:
    import io

    from feedsvc.web.app import FeedApp

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    app = FeedApp.__new__(FeedApp)
    FeedApp.__init__(app, cache=None, metrics=None, access_log=out)  # type: ignore[arg-type]
    scope = {"method": "GET", "path": "/feed.xml", "client": ("192.0.2.7", 5)}
    app._log(scope, 200, 10, 0.0, b'Feedly "x"\n 3 subscribers')
    app._log(scope, 200, 10, 0.0, None)
    first, second = out.getvalue().splitlines()
    assert " 192.0.2.0 GET /feed.xml 200 10 " in first
    assert first.split("us ", 1)[1] == '"Feedly \\"x\\"\\n 3 subscribers"'
    assert second.endswith("us -")


def test_a_flush_that_fails_gives_its_counts_back(tmp_path: Path) -> None:
    store = _store(tmp_path)
    readers = FeedReaders(lambda v: "h" + str(len(v)), now=Moments(DAY0))
    readers.seen("/feed.xml", b"Feedbin feed-id:1 - 5 subscribers", "192.0.2.0")
    readers.seen("/feed.xml", b"Miniflux/2.1", "192.0.2.0")
    shelf = FeedReaderStore(store.engine)
    store.engine.dispose()  # its connections let go, so the table can be dropped
    # The write fails (its table is gone): nothing counted is lost.
    db_rows(_url(store), "DROP TABLE feed_readers")
    with pytest.raises(DBAPIError):
        readers.flush(shelf)
    reports, clients = readers.take()
    assert [(r.fetcher, r.subscribers) for r in reports] == [("Feedbin feed-id:1", 5)]
    assert len(clients) == 1
    store.close()
