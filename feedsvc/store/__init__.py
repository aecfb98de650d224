"""The store: the single source of truth, and the only place that knows SQL.

One `Store` holds the connector's engine and one manager per concern (procrastinate's
split, issue 13): `releases` (sync, publishing, the change log, the reads for
publication), `shares`, `outbox`, `readers` and `subscribers` (issue 16). Domain facts
(`Changes`, `ReleaseEvent`, `Scheduled`) live in feedsvc.model."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine

from feedsvc.config import Settings, database_url
from feedsvc.store import connector
from feedsvc.store.alerts import AlertStore
from feedsvc.store.outbox import Outbox
from feedsvc.store.readers import FeedReaderStore
from feedsvc.store.releases import Announce, Releases
from feedsvc.store.search import Search
from feedsvc.store.shares import ShareStore
from feedsvc.store.subscribers import Subscribers

__all__ = ["Announce", "Store", "open_store"]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.releases = Releases(engine)
        self.shares = ShareStore(engine)
        self.outbox = Outbox(engine)
        self.readers = FeedReaderStore(engine)
        self.subscribers = Subscribers(engine)
        self.alerts = AlertStore(engine)  # issue 16: requests, fan-out, digests
        self.search = Search(engine)  # issue 17 item 1: full-text search

    @classmethod
    def open(cls, url: str, upgrade: bool = True) -> Store:
        """Open the database at `url` (SQLite or PostgreSQL), bringing its schema up to
        date (or, with `upgrade` false, refusing one that is not)."""
        return cls(connector.connect(url, upgrade=upgrade))

    @property
    def announce(self) -> Announce | None:
        """Turns a change into the messages that announce it, in the change's transaction."""
        return self.releases.announce

    @announce.setter
    def announce(self, announce: Announce | None) -> None:
        self.releases.announce = announce

    def close(self) -> None:
        connector.close(self.engine)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_store(settings: Settings, upgrade: bool | None = None) -> Store:
    """The store `settings` name, its schema upgraded as database.auto_upgrade says (or as
    `upgrade` overrides). `with open_store(settings) as store:` closes it however the
    block ends."""
    if upgrade is None:
        upgrade = settings.database.auto_upgrade
    return Store.open(database_url(settings), upgrade=upgrade)
