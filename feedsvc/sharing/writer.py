"""The share desk's writer: requests arriving together are stored in one transaction by one
thread (a group commit), and each is answered after that commit."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from feedsvc.store.outage import is_unreachable
from feedsvc.store.shares import PendingShare, Refusal

log = logging.getLogger("feedsvc.share")

_BATCH = 64
Accept = Callable[[list[PendingShare], dt.datetime], list[Refusal | None]]


class GroupWriter:
    def __init__(self, accept: Accept, now: Callable[[], dt.datetime]) -> None:
        self._accept = accept  # stores a batch in one transaction: a refusal or None each
        self._now = now
        self._queue: queue.SimpleQueue[tuple[PendingShare, Future[Refusal | None]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, pending: PendingShare, stored: Future[Refusal | None]) -> None:
        """Queue a share; `stored` is resolved after the commit that stores it (or not)."""
        self._ensure_thread()
        self._queue.put((pending, stored))

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._write, name="share-writer", daemon=True
                    )
                    self._thread.start()

    def _write(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < _BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            try:
                outcomes = self._accept([p for p, _ in batch], self._now())
            except Exception as e:
                # An outage is told once a minute by whoever answers the requests (503);
                # anything else is a bug, with its traceback.
                if not is_unreachable(e):
                    log.exception("storing %d share(s) failed", len(batch))
                for _, future in batch:
                    future.set_exception(e)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                future.set_result(outcome)

    def close(self) -> None:
        """Store what was queued before, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
