"""The SQL of "who reads the feeds" (issue 12 item 11): the subscriber counts feed fetchers
report, and the other clients of each feed counted per day as keyed hashes.

Each instance writes what it gathered in memory every server.readers_flush_seconds, in one
transaction; several instances on PostgreSQL combine: the latest report of a fetcher wins
by the time it was seen, and client hashes are a union.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, case, delete, func, select, tuple_

from feedsvc.store import dialects
from feedsvc.store.connector import writing
from feedsvc.store.schema import feed_clients, feed_readers

# A day's distinct clients of one feed are counted up to this many: past it, a flood of
# made-up User-Agents costs the database nothing more (the count then says "at least").
CLIENTS_PER_FEED_DAY = 100_000
KEEP_DAYS = 30  # personal data no longer than its purpose: a month of history
FRESH_DAYS = 7  # a fetcher silent this long no longer counts: its readers have gone


@dataclass(frozen=True)
class ReaderReport:
    feed: str  # the feed's URL path
    fetcher: str  # who polls: the reader's name, and the feed id it gave, if any
    reader: str
    subscribers: int
    seen: dt.datetime


@dataclass(frozen=True)
class ClientSighting:
    day: dt.date
    feed: str
    client: str  # a keyed hash of (network, User-Agent)


@dataclass(frozen=True)
class ReaderCount:
    reader: str
    subscribers: int  # summed over the reader's fetchers of this feed
    fetchers: int
    last_seen: dt.datetime


@dataclass
class FeedAudience:
    feed: str
    readers: list[ReaderCount] = field(default_factory=list)
    clients_today: int = 0
    clients_week: int = 0

    @property
    def subscribers(self) -> int:
        return sum(r.subscribers for r in self.readers)


class FeedReaderStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, reports: Sequence[ReaderReport], clients: Iterable[ClientSighting]) -> None:
        """One write for everything an instance gathered since its last flush."""
        # The same order in every instance: two flushes meeting on PostgreSQL lock rows in
        # the same order, and never deadlock.
        reports = sorted(reports, key=lambda r: (r.feed, r.fetcher))
        per_group: dict[tuple[dt.date, str], list[str]] = defaultdict(list)
        for c in clients:
            per_group[(c.day, c.feed)].append(c.client)
        if not reports and not per_group:
            return
        with writing(self.engine) as conn:
            if reports:
                conn.execute(
                    _latest_wins(conn),
                    [
                        {
                            "feed": r.feed,
                            "fetcher": r.fetcher,
                            "reader": r.reader,
                            "subscribers": r.subscribers,
                            "last_seen": r.seen,
                        }
                        for r in reports
                    ],
                )
            if per_group:
                rows = self._within_cap(conn, per_group)
                if rows:
                    conn.execute(_union(conn), rows)

    @staticmethod
    def _within_cap(
        conn: Any, per_group: dict[tuple[dt.date, str], list[str]]
    ) -> list[dict[str, Any]]:
        c = feed_clients.c
        stored = Counter(
            {
                (day, feed): n
                for day, feed, n in conn.execute(
                    select(c.day, c.feed, func.count())
                    .where(tuple_(c.day, c.feed).in_(list(per_group)))
                    .group_by(c.day, c.feed)
                )
            }
        )
        rows = []
        for (day, feed), hashes in sorted(per_group.items()):
            room = CLIENTS_PER_FEED_DAY - stored[(day, feed)]
            # Some may be stored already (union): the cap is approximate, never exceeded by
            # more than one flush's worth.
            for client in sorted(set(hashes))[: max(room, 0)]:
                rows.append({"day": day, "feed": feed, "client": client})
        return rows

    def purge(self, now: dt.datetime) -> int:
        """Forget reports and client hashes older than KEEP_DAYS."""
        before = now - dt.timedelta(days=KEEP_DAYS)
        with writing(self.engine) as conn:
            n = conn.execute(delete(feed_readers).where(feed_readers.c.last_seen < before))
            m = conn.execute(delete(feed_clients).where(feed_clients.c.day < before.date()))
        return int(n.rowcount or 0) + int(m.rowcount or 0)

    def audience(self, now: dt.datetime) -> list[FeedAudience]:
        """Per feed: subscribers per reader (the latest report of each fetcher seen in the
        last FRESH_DAYS, summed over the reader's fetchers), and distinct other clients
        today (UTC) and in the last seven days."""
        r, c = feed_readers.c, feed_clients.c
        today = now.astimezone(dt.UTC).date()
        feeds: dict[str, FeedAudience] = {}
        with self.engine.connect() as conn:
            for feed, reader, subscribers, fetchers, last_seen in conn.execute(
                select(
                    r.feed, r.reader, func.sum(r.subscribers), func.count(), func.max(r.last_seen)
                )
                .where(r.last_seen >= now - dt.timedelta(days=FRESH_DAYS))
                .group_by(r.feed, r.reader)
            ):
                seen = last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=dt.UTC)
                feeds.setdefault(feed, FeedAudience(feed)).readers.append(
                    ReaderCount(reader, int(subscribers), int(fetchers), seen)
                )
            week = today - dt.timedelta(days=FRESH_DAYS - 1)
            for feed, n_today, n_week in conn.execute(
                select(
                    c.feed,
                    func.count(func.distinct(case((c.day == today, c.client)))),
                    func.count(func.distinct(c.client)),
                )
                .where(c.day >= week)
                .group_by(c.feed)
            ):
                audience = feeds.setdefault(feed, FeedAudience(feed))
                audience.clients_today, audience.clients_week = int(n_today), int(n_week)
        for audience in feeds.values():
            audience.readers.sort(key=lambda x: (-x.subscribers, x.reader))
        return sorted(feeds.values(), key=lambda a: (-a.subscribers, -a.clients_week, a.feed))


def _latest_wins(conn: Any) -> Any:
    """Insert a report, or replace the stored one if this one was seen later."""
    statement = dialects.of(conn).insert(feed_readers)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["feed", "fetcher"],
        set_={"reader": new.reader, "subscribers": new.subscribers, "last_seen": new.last_seen},
        where=feed_readers.c.last_seen < new.last_seen,
    )


def _union(conn: Any) -> Any:
    return (
        dialects.of(conn)
        .insert(feed_clients)
        .on_conflict_do_nothing(index_elements=["day", "feed", "client"])
    )
