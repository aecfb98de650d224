"""The live service: one store, one document cache, and the jobs that keep them current.

The database is the truth; the scheduler only ticks. Every job is safe to run at any time
and as often as it likes: a scan ingests what settled, publish_due publishes what fell due.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import text

from feedsvc.clock import Clock, SystemClock
from feedsvc.config import Settings, database_url
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.site import Site
from feedsvc.scanner import Look, Scanner
from feedsvc.store import Changes, Store
from feedsvc.web.metrics import Metrics

log = logging.getLogger("feedsvc")


@dataclass(frozen=True)
class Tick:
    changes: Changes
    unsettled: int = 0


class Service:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store.open(database_url(settings))
        self.site = Site(settings, self.store, self.clock)
        self.cache = DocumentCache(
            self.site,
            self.store,
            settings.server.cache_dir,
            memory_bytes=settings.server.memory_cache_mb << 20,
        )
        self.scanner = Scanner(settings, self.store, self.clock)
        self.metrics = Metrics()
        self.metrics.gauges["feedsvc_releases_published"] = lambda: len(self.cache.tokens)
        self.metrics.gauges["feedsvc_release_files_with_problems"] = lambda: len(
            self.scanner.problems
        )
        self._lock = threading.Lock()  # one change at a time, whichever job makes it

    def start(self) -> None:
        """Catch up with the folder and the clock, then fill the cache."""
        with self._lock:
            look = self._look()
            # Releases that fell due while the service was down.
            self.store.publish_due(self.clock.now())
            self.cache.load()
        self._report(look.changes)

    def scan(self) -> Tick:
        with self._lock:
            look = self._look()
            self.cache.apply(look.changes)
        self._report(look.changes)
        return Tick(look.changes, look.unsettled)

    def _look(self) -> Look:
        look = self.scanner.look()
        for problem in look.new_problems:
            log.warning("%s", problem)
        self.metrics.read_errors += len(look.new_problems)
        return look

    def _report(self, changes: Changes) -> None:
        if changes:
            log.info(
                "published %d, updated %d, withdrawn %d",
                len(changes.published),
                len(changes.updated),
                len(changes.withdrawn),
            )

    def publish_due(self) -> Tick:
        with self._lock:
            changes = self.store.publish_due(self.clock.now())
            self.cache.apply(changes)
        if changes:
            log.info("embargo lifted: %s", ", ".join(changes.published))
        return Tick(changes)

    def next_embargo(self) -> dt.datetime | None:
        return self.store.next_embargo()

    def healthy(self) -> bool:
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def close(self) -> None:
        with self._lock:  # a job still running finishes its change first
            self.cache.close()
            self.store.close()
