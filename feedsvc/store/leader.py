"""Who scans `items/` and lifts embargoes: one instance at a time.

On PostgreSQL the leader is whoever holds a session advisory lock, kept on a connection of
its own. If the leader dies its connection closes, the lock is free, and the next instance
to ask (every scan tick) takes over. On SQLite there is one process, and it leads.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("feedsvc")

LEADER_LOCK = 0x66656500


class Leadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def held(self) -> bool:
        """Whether this process leads now: keeps the lock it has, or tries to take it."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except DBAPIError:
                log.warning("lost the leader's connection to the database; stepping down")
                self._drop()
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})
            won = bool(got.scalar())
            conn.commit()  # the lock is the session's; no transaction stays open
        except DBAPIError:
            conn.close()
            return False
        if not won:
            conn.close()
            return False
        self._conn = conn
        log.info("leading: this instance now scans items/ and lifts embargoes")
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
                self._conn.commit()
            except DBAPIError:
                pass
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool: its session held the lock
            finally:
                conn.close()
