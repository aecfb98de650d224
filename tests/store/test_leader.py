"""Leadership on its own (issue 13): two Leadership objects on one database, each with an
engine of its own as two instances of feedsvc have. On PostgreSQL one session advisory lock
decides; on SQLite there is one process, and it leads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from feedsvc.store.leader import LEADER_LOCK, Leadership
from tests.conftest import TEST_DATABASE, db_rows, new_database_url

on_postgresql = pytest.mark.skipif(
    TEST_DATABASE != "postgresql", reason="the advisory lock: FEEDSVC_TEST_DATABASE=postgresql"
)


@pytest.fixture
def database(tmp_path: Path) -> str:
    (tmp_path / "var").mkdir()
    return new_database_url(tmp_path)


@pytest.fixture
def instance(database: str) -> Iterator[Callable[[], Leadership]]:
    """A Leadership over an engine of its own; all are released and disposed after."""
    made: list[tuple[Leadership, Engine]] = []

    def make() -> Leadership:
        engine = create_engine(database)
        made.append((Leadership(engine), engine))
        return made[-1][0]

    yield make
    for leadership, engine in made:
        leadership.release()
        engine.dispose()


def lock_holders(url: str) -> list[int]:
    """The backends holding the leader's advisory lock now."""
    return [
        pid
        for (pid,) in db_rows(
            url,
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = :k",
            k=LEADER_LOCK,
        )
    ]


def end_session(url: str, pid: int) -> None:
    """What the server does when an instance's process dies: its session ends (waiting,
    up to 5 s, until it has; PostgreSQL 14+)."""
    assert db_rows(url, "SELECT pg_terminate_backend(:pid, 5000)", pid=pid) == [(True,)]


@pytest.mark.sqlite_only
def test_on_sqlite_every_instance_leads(instance) -> None:
    first, second = instance(), instance()
    assert first.held() and second.held()
    first.release()  # nothing to give back
    assert first.held()


@on_postgresql
def test_one_leader_at_a_time(database: str, instance) -> None:
    first, second = instance(), instance()
    assert first.held()
    assert not second.held()
    assert first.held()  # keeps it, tick after tick
    assert not second.held()
    assert len(lock_holders(database)) == 1


@on_postgresql
def test_release_hands_over_to_the_next_to_ask(database: str, instance) -> None:
    first, second = instance(), instance()
    assert first.held()
    first.release()
    assert lock_holders(database) == []
    assert second.held()
    assert not first.held()


@on_postgresql
def test_a_leader_that_dies_is_taken_over(database: str, instance, caplog) -> None:
    first, second = instance(), instance()
    assert first.held()
    (holder,) = lock_holders(database)
    # The leader's process dies: the server ends its session, and the lock with it.
    end_session(database, holder)
    assert second.held()
    assert lock_holders(database) != [holder]
    with caplog.at_level(logging.WARNING, logger="feedsvc"):
        assert not first.held()  # notices it lost its session, and does not lead
    assert "lost the leader's connection to the database; stepping down" in caplog.text


@on_postgresql
def test_a_failed_leader_leads_again_once_the_lock_is_free(database: str, instance) -> None:
    first, second = instance(), instance()
    assert first.held()
    (holder,) = lock_holders(database)
    end_session(database, holder)
    assert first.held()  # no one else asked: it takes the lock again on a new session
    assert lock_holders(database) not in ([], [holder])
    assert not second.held()


@on_postgresql
def test_the_lock_is_held_outside_any_transaction(database: str, instance) -> None:
    leader = instance()
    assert leader.held()
    open_transactions = db_rows(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND state LIKE 'idle in%'",
        pid=lock_holders(database)[0],
    )
    assert open_transactions == [(0,)]  # a session-level lock, no transaction kept open


@on_postgresql
def test_release_gives_the_session_back_to_nobody(database: str, instance) -> None:
    leader = instance()
    assert leader.held()
    (holder,) = lock_holders(database)
    leader.release()
    # The connection that held the lock is closed, not pooled for something else to use.
    alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"
    deadline = time.monotonic() + 2  # the backend ends a moment after its client goes
    while db_rows(database, alive, pid=holder) != [(0,)]:
        assert time.monotonic() < deadline, "the leader's session is still open"
        time.sleep(0.02)
    with leader.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
