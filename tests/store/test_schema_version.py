"""The schema comes from Alembic migrations: from scratch, from an old database, refused
when upgrades are not allowed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from feedsvc.store import Store, schema_version
from feedsvc.store.schema import SEARCH_TABLES, metadata
from feedsvc.store.schema_version import SchemaError
from tests.conftest import TEST_DATABASE, db_rows, new_database_url


def _described(name: str | None, kind: str, _parents: object) -> bool:
    """What the metadata can describe: not SQLite's FTS5 table of the search (issue 17)
    and its shadow tables (tests/search/test_migration.py checks those)."""
    return not (kind == "table" and name in SEARCH_TABLES)


def diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _described})
        found = compare_metadata(context, metadata)
    engine.dispose()
    return found


def test_the_migrations_build_exactly_the_schema_of_the_code(tmp_path: Path) -> None:
    # On the suite's database: SQLite, or PostgreSQL in that run.
    url = new_database_url(tmp_path, "migrated")
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(schema_version.config(conn), "head")
    engine.dispose()
    assert diff(url) == []
    # ...and the quick path for a new database (the metadata, stamped) is the same schema.
    store = Store.open(f"sqlite:///{tmp_path}/quick.db")
    assert schema_version.current(store.engine) == schema_version.head()
    store.close()
    assert diff(f"sqlite:///{tmp_path}/quick.db") == []


def test_a_database_from_before_migrations_is_completed_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    metadata.tables["releases"].create(engine)  # as issue 2's feedsvc left it
    engine.dispose()
    store = Store.open(f"sqlite:///{path}")
    assert schema_version.current(store.engine) == schema_version.head()
    assert set(inspect(store.engine).get_table_names()) >= set(metadata.tables)
    store.close()
    assert diff(f"sqlite:///{path}") == []


def test_an_old_revision_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(schema_version.config(conn), "0001")
    engine.dispose()
    with sqlite3.connect(tmp_path / "a.db") as db:
        db.execute(
            "INSERT INTO suppressions (address_hash, created_at) VALUES ('ab', '2026-01-01')"
        )
    with pytest.raises(SchemaError, match="feedsvc db upgrade"):
        Store.open(url, upgrade=False)
    store = Store.open(url)
    assert schema_version.current(store.engine) == schema_version.head()
    assert "site_changes" in inspect(store.engine).get_table_names()
    store.close()
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT count(*) FROM suppressions").fetchone() == (1,)


def test_releases_stored_before_languages_are_the_site_s_own_after_0006(tmp_path: Path) -> None:
    """Issue 15: every release of an older database is in the site's own language (its key
    is its id), and seq, once unique over the table, counts within a language."""
    url = new_database_url(tmp_path, "languages")
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(url)
    columns = (
        "id, source, mtime_ns, size, content_hash, title, section, section_slug, language, "
        "tags, summary, body_html, published, updated, seq, tag_date"
    )
    values = (
        "'a', 'a.txt', 1, 1, 'h', 'A', 'News', 'news', 'en', '[]', 's', '<p>b</p>', "
        "'2020-09-11 09:00:00', '2020-09-11 09:00:00', 1, '2020-09-11'"
    )
    with engine.begin() as conn:
        command.upgrade(schema_version.config(conn), "0005")
        conn.exec_driver_sql(f"INSERT INTO releases ({columns}) VALUES ({values})")
        command.upgrade(schema_version.config(conn), "head")
    with engine.begin() as conn:
        row = conn.exec_driver_sql("SELECT id, release_id, scope, seq FROM releases").one()
        assert tuple(row) == ("a", "a", "", 1)
        translated = values.replace("'a', 'a.txt'", "'a@zh', 'a.zh.txt'").replace("'en'", "'zh'")
        conn.exec_driver_sql(
            f"INSERT INTO releases ({columns}, release_id, scope) VALUES ({translated}, 'a', 'zh')"
        )  # seq 1 again, in another language
    with pytest.raises(IntegrityError), engine.begin() as conn:
        twice = values.replace("'a', 'a.txt'", "'b', 'b.txt'")
        conn.exec_driver_sql(
            f"INSERT INTO releases ({columns}, release_id, scope) VALUES ({twice}, 'b', '')"
        )
    engine.dispose()
    assert diff(url) == []


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="GIN is PostgreSQL's")
def test_the_search_vectors_are_gin_indexed_however_the_database_was_made(
    tmp_path: Path,
) -> None:
    """From the metadata (a new database) and from the migrations alike: the metadata names
    the method only as the table is made on PostgreSQL (store/schema.py)."""
    made = new_database_url(tmp_path, "made")
    Store.open(made).close()  # a new database: the metadata, stamped
    migrated = new_database_url(tmp_path, "migrated")
    engine = create_engine(migrated)
    with engine.begin() as conn:
        command.upgrade(schema_version.config(conn), "head")
    engine.dispose()
    for url in (made, migrated):
        found = db_rows(
            url,
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('releases_search_vector', 'releases_search_title') ORDER BY indexname",
        )
        assert [name for name, _ in found] == ["releases_search_title", "releases_search_vector"]
        assert all(" USING gin " in definition for _, definition in found), found


def test_a_command_on_sqlite_does_not_import_the_postgresql_dialect(tmp_path: Path) -> None:
    """~20 ms of every command's start (issue 18), for a database it does not use. (Making
    a new database runs Alembic, which imports every dialect it supports.)"""
    url = f"sqlite:///{tmp_path}/made.db"
    Store.open(url).close()
    script = (
        "import sys, feedsvc.cli, feedsvc.build, feedsvc.service, feedsvc.publishing.site\n"
        "from feedsvc.store import Store\n"
        f"Store.open({url!r}, upgrade=False).close()\n"
        "print(sorted(m for m in sys.modules if 'dialects.postgresql' in m))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
