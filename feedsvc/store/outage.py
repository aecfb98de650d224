"""A database out of reach, told apart from a defect, and said once a minute.

While the database is down, every request and every job tick that needs it fails the same
way; a traceback each buried the log (issue 11). An outage is answered (503, or a job that
tries again at its next tick) and told by one line a minute, while any other error is a
defect and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import exc

RETRY_AFTER_SECONDS = 5
EVERY_SECONDS = 60.0

# SQLite: the file cannot be opened, written or read, or another writer keeps it locked
# past busy_timeout. Anything else (a constraint, a syntax error) is a defect.
_SQLITE_OUTAGES = (
    "unable to open database file",
    "attempt to write a readonly database",
    "disk i/o error",
    "database is locked",
    "database or disk is full",
)
# PostgreSQL SQLSTATE classes of an outage: 08 connection exception, 53 insufficient
# resources (disk full, too many connections), 57P admin or crash shutdown, cannot connect
# now (57014, a cancelled statement, is not one).
_PG_OUTAGE_CLASSES = ("08", "53", "57P")


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (or written) now, rather than
    that a statement or the code is wrong."""
    sqlite3, psycopg = _drivers()
    for e in _chain(error):
        if isinstance(e, exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, exc.TimeoutError):  # no pooled connection came free in time
            return True
        if sqlite3 is not None and isinstance(e, sqlite3.OperationalError):
            message = str(e).lower()
            if any(outage in message for outage in _SQLITE_OUTAGES):
                return True
        elif psycopg is not None and isinstance(e, psycopg.InterfaceError):
            return True  # the connection is closed or broken
        elif psycopg is not None and isinstance(e, psycopg.OperationalError):
            state = e.sqlstate
            if state is None or state.startswith(_PG_OUTAGE_CLASSES):
                return True  # None: it failed before the server said anything (connect)
    return False


def reason(error: BaseException) -> str:
    """The driver's own words, first line only: no SQL, no parameters, no traceback."""
    sqlite3, psycopg = _drivers()
    drivers = (exc.TimeoutError, *(d.Error for d in (sqlite3, psycopg) if d is not None))
    found = next((e for e in _chain(error) if isinstance(e, drivers)), error)
    text = str(found).strip().splitlines()
    first = text[0] if text else type(found).__name__
    first = first.split(" (Background on this error at:")[0]
    return first if len(first) <= 200 else first[:199] + "…"


def _drivers() -> tuple[Any, Any]:
    """sqlite3 and psycopg, each if the process loaded it: a driver not loaded raised
    nothing (and importing psycopg only to ask would cost a SQLite service 10 MiB)."""
    return sys.modules.get("sqlite3"), sys.modules.get("psycopg")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error it wraps, and what caused or preceded each."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen or len(seen) > 16:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


class OutageLog:
    """Says that the database is out of reach at most once every `every` seconds, whoever
    notices it (a request, a job), with how many failures went untold since; and says
    once that it is back, when a job that failed runs well again."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = logger
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None  # when the last line was written
        self._untold = 0  # failures since then
        self._failing: set[str] = set()  # jobs that failed and have not run well since
        self._since: float | None = None  # when the outage was first noticed

    def failed(self, error: BaseException, consequence: str, job: str | None = None) -> None:
        """An outage, noticed; `consequence` says what happens meanwhile ("answering 503").
        A `job` that fails is expected to call succeeded(job) when it runs well again."""
        with self._lock:
            now = self.clock()
            if job is not None:
                self._failing.add(job)
            if self._since is None:
                self._since = now
            if self._last is not None and now - self._last < self.every:
                self._untold += 1
                return
            untold, self._untold, self._last = self._untold, 0, now
        more = f" ({untold} more failures since the last line)" if untold else ""
        self.log.warning("database unreachable: %s; %s%s", reason(error), consequence, more)

    def succeeded(self, job: str) -> None:
        """`job` ran well: if it had failed for the outage, the database is back (a job
        that runs rarely, such as purge, need not run again for that to be said)."""
        if job not in self._failing:  # the usual case, without the lock
            return
        with self._lock:
            if job not in self._failing or self._since is None:
                return
            seconds = self.clock() - self._since
            self._failing.clear()
            self._since = self._last = None
            self._untold = 0
        self.log.info("database reachable again after %.0f s", seconds)


# One for the process: requests and jobs notice the same outage.
OUTAGES = OutageLog(logging.getLogger("feedsvc"))
