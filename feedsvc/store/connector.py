"""The connector: the one place that makes the store's engine, and the write transactions
every manager takes turns through (procrastinate's connector: it executes, the managers
say what)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from feedsvc.privacy import private_file, private_folder
from feedsvc.store import schema_version

__all__ = ["RELEASES_LOCK", "SHARES_LOCK", "SUBSCRIBERS_LOCK", "close", "connect", "writing"]

# PostgreSQL advisory locks (transaction scope) for writes that must take turns across
# instances: the published set (archive positions are numbered in turn) and the shares
# (limits and single-use tokens are checked, then written).
RELEASES_LOCK, SHARES_LOCK = 0x66656501, 0x66656502
# Subscribers (issue 16): a request reads an address's row, then writes it.
SUBSCRIBERS_LOCK = 0x66656503


def connect(url: str, upgrade: bool = True) -> Engine:
    """An engine on the database at `url` (SQLite or PostgreSQL), its schema brought up to
    date (or, with `upgrade` false, refused when it is not)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _private_database(Path(parsed.database))
    # Statement parameters (addresses, names, messages) never reach a log line or an
    # error message, even with SQLAlchemy's logging on (issue 11).
    if parsed.get_backend_name() == "postgresql":
        # Connections are checked before use: a PostgreSQL restart or a dropped idle
        # connection costs a retry, not a failed request.
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=8, max_overflow=8, hide_parameters=True
        )
    else:
        engine = create_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    schema_version.upgrade(engine, allowed=upgrade)
    return engine


def schema_engine(url: str) -> Engine:
    """An engine that leaves the schema as it finds it, for what must see or change the
    schema itself: `feedsvc db current|upgrade`, and a backup describing a database."""
    return create_engine(url, hide_parameters=True)


class StoreClosed(RuntimeError):
    """Work reached a store after its close: a defect (a job begun after the service
    closed), refused rather than reconnected (on PostgreSQL such a job once held a
    connection on a database the tests were emptying, and both waited)."""


def close(engine: Engine) -> None:
    """Close the engine for good: its connections are closed, and a new one is refused
    (StoreClosed); a transaction still running ends as it would have. Closing again does
    nothing."""
    with _LOCKS_LOCK:
        if engine in _CLOSED:
            return
        _CLOSED.add(engine)
    if engine.dialect.name == "sqlite":
        try:
            with writing(engine) as conn:
                conn.exec_driver_sql("PRAGMA optimize")  # SQLite's advice for every close
        except OperationalError:
            pass  # advice only: another process holding the database must not fail a close
    event.listen(engine, "do_connect", _refuse)
    engine.dispose()


def _refuse(*_: object) -> None:
    raise StoreClosed("the store was closed; it is not opened again by what reaches it")


@contextmanager
def writing(engine: Engine, turn: int | None = None) -> Iterator[Connection]:
    """A write transaction. On SQLite it starts with BEGIN IMMEDIATE: the write lock is
    taken first, so two processes never both read and then fail to upgrade to writing.
    Threads of one process queue on a lock of their own first: SQLite's busy handler
    would make them sleep whole milliseconds each time they met. On PostgreSQL, `turn`
    names an advisory lock held until the transaction ends (SQLite's one writer at a
    time, where it matters)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if turn is not None:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": turn})
            yield conn
        return
    with _sqlite_lock(engine), engine.begin() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()
_CLOSED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _sqlite_lock(engine: Engine) -> threading.Lock:
    with _LOCKS_LOCK:
        lock = _LOCKS.get(engine)
        if lock is None:
            lock = _LOCKS[engine] = threading.Lock()
        return lock


def _private_database(path: Path) -> None:
    """The database holds names, addresses and messages: its folder (var/) is 0700 and the
    file 0600, made so before SQLite opens it, which gives its -wal and -shm the same mode
    (issue 11). Files a looser feedsvc left are tightened."""
    private_folder(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(path.with_name(path.name + suffix), create=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite's default page cache (2 MiB a connection). Issue 17 raised it to 16 MiB for
    # FTS5's merges during a first import; since a bulk publish indexes in one statement
    # (issue 18) it no longer helps, and it cost `serve` 63 MiB of RSS once warm (205 ->
    # 142 MiB with 5,000 releases: every pooled connection kept its pages).
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
