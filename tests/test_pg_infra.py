"""The PostgreSQL cluster the test run starts itself (tests/pg.py), whichever database the
suite runs on; skipped where PostgreSQL is not installed (failed with
FEEDSVC_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests import pg
from tests.conftest import db_rows


def libpq(url: str) -> str:
    """The psycopg form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_the_cluster_answers_on_127_0_0_1() -> None:
    url = pg.fresh_database()
    assert url.startswith("postgresql+psycopg://feedsvc@127.0.0.1:")
    [(version,)] = db_rows(url, "SELECT version()")
    assert version.startswith("PostgreSQL ")
    [(address,)] = db_rows(url, "SELECT host(inet_server_addr())")
    assert address == "127.0.0.1"


def test_two_fresh_databases_are_independent() -> None:
    one, two = pg.fresh_database(), pg.fresh_database()
    assert one != two
    db_rows(one, "CREATE TABLE releases (id text PRIMARY KEY)")
    db_rows(one, "INSERT INTO releases VALUES ('a')")
    assert db_rows(one, "SELECT id FROM releases") == [("a",)]
    assert db_rows(two, "SELECT to_regclass('releases')") == [(None,)]


def test_a_database_comes_back_as_empty_as_a_new_one() -> None:
    with pg.lending_scope():
        url = pg.fresh_database()
        db_rows(url, "CREATE TABLE releases (id text PRIMARY KEY)")
        db_rows(url, "CREATE SCHEMA elsewhere")
        db_rows(url, "CREATE SEQUENCE elsewhere.numbers")
        held = psycopg.connect(libpq(url))  # left open, in a transaction, as a leak would be
        held.execute("LOCK TABLE releases")
    with pg.lending_scope():
        again = pg.fresh_database()
        assert again == url  # the pool lent the same one again...
        ours = "nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        assert db_rows(again, f"SELECT nspname FROM pg_namespace WHERE {ours}") == [("public",)]
        relations = "SELECT count(*) FROM pg_class JOIN pg_namespace n ON n.oid = relnamespace"
        assert db_rows(again, f"{relations} WHERE {ours}") == [(0,)]
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")  # ...and cut off whoever still held it
    held.close()


def test_fifty_connections_at_once_are_all_accepted() -> None:
    url = libpq(pg.fresh_database())
    connected = threading.Barrier(50, timeout=30)
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                connected.wait()  # all fifty open at the same moment
                assert conn.execute("SELECT 1").fetchone() == (1,)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
