"""Who reads the feeds (issue 12 item 11), as FeedBurner told publishers.

Services that poll a feed once for many people say how many in their User-Agent:
`Feedly/1.0 (+http://www.feedly.com/fetcher.html; 45 subscribers; like FeedFetcher-Google)`,
`Mozilla/5.0 (compatible; inoreader.com; 12 subscribers)`, `Feedbin feed-id:1234 - 5
subscribers`. The latest report of each fetcher counts; a service that polls one feed for
several subscriptions names each (Feedbin's `feed-id:N`, NewsBlur's site URL), and each is
kept apart. Clients that report no count (Miniflux, FreshRSS, NetNewsWire, browsers) are
counted as distinct (network, User-Agent) pairs a day, stored as keyed hashes only.

On the hot path this is a dict lookup keyed by the User-Agent's bytes (each distinct one is
parsed once) and a dict or set store, without a lock; the database hears of it in one write
every server.readers_flush_seconds and at shutdown, never per request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from feedsvc.store.readers import ClientSighting, FeedReaderStore, ReaderReport

MAX_AGENT_CHARS = 512  # what is read of a User-Agent: real ones are far shorter
MAX_SUBSCRIBERS = 100_000_000  # more is no report anyone should believe
MAX_KNOWN_AGENTS = 4096  # parsed User-Agents remembered
MAX_PENDING_REPORTS = 10_000  # (feed, fetcher) pairs gathered between flushes
MAX_PENDING_CLIENTS = 50_000  # (day, feed, client) triples gathered between flushes

# "45 subscribers", "1 subscriber", "12 readers": the generic form every service uses.
_COUNT = re.compile(r"(?<![\w.])(\d{1,12}) (?:subscribers?|readers?)\b", re.IGNORECASE)
# Several subscriptions by one service: `feed-id:1234` (Feedbin), `feed-id=…` (The Old
# Reader, Google), `feedID: 42` (Netvibes), NewsBlur's `/site/6043445/`.
_FEED_ID = re.compile(r"feed-?id\s*[:=]\s*([A-Za-z0-9_.-]{1,64})", re.IGNORECASE)
_SITE_ID = re.compile(r"/site/(\d{1,20})")
_PRODUCT = re.compile(r"(?<![\w.+/-])([A-Za-z][\w.+-]{0,39})/v?\d")
_UNSAFE = re.compile(r"[^\w .+-]", re.ASCII)  # reader names are shown in a terminal
_BROWSER_TOKENS = frozenset(
    {
        *("mozilla", "applewebkit", "chrome", "chromium", "safari", "gecko", "firefox"),
        *("version", "mobile", "khtml", "edg", "opr", "trident", "presto", "like"),
    }
)
# Names as the services spell them.
_KNOWN = (
    ("feedly", "Feedly"),
    ("inoreader", "Inoreader"),
    ("newsblur", "NewsBlur"),
    ("feedbin", "Feedbin"),
    ("theoldreader", "The Old Reader"),
    ("the old reader", "The Old Reader"),
    ("bazqux", "BazQux"),
    ("feedfetcher-google", "Google Feedfetcher"),
    ("netvibes", "Netvibes"),
    ("bloglovin", "Bloglovin"),
    ("feedspot", "Feedspot"),
    ("feed wrangler", "Feed Wrangler"),
    ("feedwrangler", "Feed Wrangler"),
    ("feedhq", "FeedHQ"),
    ("overcast", "Overcast"),
    ("superfeedr", "Superfeedr"),
    ("feeder.co", "Feeder"),
    ("miniflux", "Miniflux"),
    ("freshrss", "FreshRSS"),
    ("netnewswire", "NetNewsWire"),
    ("tiny tiny rss", "Tiny Tiny RSS"),
    ("nextcloud-news", "Nextcloud News"),
    ("commafeed", "CommaFeed"),
)


@dataclass(frozen=True)
class Report:
    """What a fetcher's User-Agent says: who, which subscription, how many readers."""

    reader: str
    fetcher: str
    subscribers: int


def reader_name(agent: str) -> str:
    """The reader a User-Agent names: a known service, else its first product token that is
    not a browser's, else its first words; '' for an empty one. Safe to print."""
    lowered = agent.lower()
    named = [(at, name) for needle, name in _KNOWN if (at := lowered.find(needle)) >= 0]
    if named:
        return min(named)[1]  # the first named: "Feedspot/1.0 (...; like FeedFetcher-Google)"
    for token in _PRODUCT.findall(agent):
        if token.lower() not in _BROWSER_TOKENS:
            return _safe(token)
    head = re.split(r"/| - |[;(]", agent, maxsplit=1)[0]
    return _safe(head)


def _safe(text: str) -> str:
    return " ".join(_UNSAFE.sub(" ", text).split())[:40]


def parse_agent(agent: str) -> Report | None:
    """The subscriber report in a User-Agent, or None when it makes none."""
    agent = agent[:MAX_AGENT_CHARS]
    count = _COUNT.search(agent)
    if count is None:
        return None
    subscribers = int(count.group(1))
    if subscribers > MAX_SUBSCRIBERS:
        return None
    reader = reader_name(agent) or "unnamed"
    fetcher = reader
    if (m := _FEED_ID.search(agent)) is not None:
        fetcher = f"{reader} feed-id:{m.group(1)}"
    elif (m := _SITE_ID.search(agent)) is not None:
        fetcher = f"{reader} site:{m.group(1)}"
    return Report(reader, fetcher, subscribers)


class FeedReaders:
    """The aggregate one instance keeps between flushes: the latest report per (feed,
    fetcher), and the (day, feed, network, User-Agent) of clients that report none."""

    def __init__(
        self,
        client_hash: Callable[[str], str],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._hash = client_hash  # keyed: without the service's key, no way back
        self._now = now
        self._agents: dict[bytes | None, Report | str] = {}
        self._reports: dict[tuple[str, str], tuple[Report, float]] = {}
        # Requests add on the event loop while a flush takes from a scheduler thread: with no
        # lock on the hot path, a flush takes entries one by one with dict.pop and set.pop
        # (each atomic under the GIL), so an entry added meanwhile waits for the next flush.
        self._clients: set[tuple[int, str, str, str]] = set()
        self.dropped = 0  # sightings not kept because a cap was reached

    def seen(self, feed: str, agent: bytes | None, network: str, at: float = 0.0) -> None:
        """A feed was answered 200 or 304 to a client in `network` (already anonymised) at
        `at` (POSIX seconds; 0: ask the clock). `feed` is the path of a document the site
        has: its length is the site's to bound."""
        known = self._agents.get(agent)
        if known is None:
            known = self._learn(agent)
        if not at:
            at = self._now()
        if type(known) is Report:
            entry = (feed, known.fetcher)
            if len(self._reports) < MAX_PENDING_REPORTS or entry in self._reports:
                self._reports[entry] = (known, at)
                return
        elif len(self._clients) < MAX_PENDING_CLIENTS:
            self._clients.add((int(at // 86400), feed, network, known))  # type: ignore[arg-type]
            return
        self.dropped += 1

    def _learn(self, agent: bytes | None) -> Report | str:
        text = (agent or b"")[:MAX_AGENT_CHARS].decode("latin-1")
        known: Report | str = parse_agent(text) or text
        if len(self._agents) >= MAX_KNOWN_AGENTS:
            self._agents.clear()  # a flood of made-up agents: start over, stay bounded
        self._agents[agent] = known
        return known

    def take(self) -> tuple[list[ReaderReport], list[ClientSighting]]:
        """Everything gathered since the last take, ready to store; the aggregate starts
        empty again."""
        return self._rows(*self._take_all())

    def flush(self, store: FeedReaderStore) -> int:
        """Write what was gathered in one transaction; returns the rows offered. If the
        write fails, what was taken is given back (within the caps) for the next flush."""
        reports, clients = self._take_all()
        rows = self._rows(reports, clients)
        try:
            store.record(*rows)
        except Exception:
            self._give_back(reports, clients)
            raise
        return len(rows[0]) + len(rows[1])

    def _take_all(
        self,
    ) -> tuple[dict[tuple[str, str], tuple[Report, float]], set[tuple[int, str, str, str]]]:
        live_reports, live_clients = self._reports, self._clients
        reports = {}
        for entry in list(live_reports):
            with contextlib.suppress(KeyError):
                reports[entry] = live_reports.pop(entry)
        clients = set()
        for _ in range(len(live_clients)):
            try:
                clients.add(live_clients.pop())
            except KeyError:
                break
        return reports, clients

    def _rows(
        self,
        reports: dict[tuple[str, str], tuple[Report, float]],
        clients: set[tuple[int, str, str, str]],
    ) -> tuple[list[ReaderReport], list[ClientSighting]]:
        epoch = dt.date(1970, 1, 1)
        return (
            [
                ReaderReport(
                    feed, fetcher, r.reader, r.subscribers, dt.datetime.fromtimestamp(at, dt.UTC)
                )
                for (feed, fetcher), (r, at) in reports.items()
            ],
            [
                # Hashed here, off the hot path: the network and agent never reach the store.
                ClientSighting(
                    epoch + dt.timedelta(days=day), feed, self._hash(f"{network}\n{agent}")
                )
                for day, feed, network, agent in clients
            ],
        )

    def _give_back(
        self,
        reports: dict[tuple[str, str], tuple[Report, float]],
        clients: set[tuple[int, str, str, str]],
    ) -> None:
        for entry, sighting in reports.items():
            if len(self._reports) < MAX_PENDING_REPORTS:
                self._reports.setdefault(entry, sighting)  # a newer one seen meanwhile wins
        room = MAX_PENDING_CLIENTS - len(self._clients)
        if room > 0:
            self._clients.update(list(clients)[:room])
