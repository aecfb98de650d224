"""Migration 0010 (issue 17 item 1): the releases a database already holds are indexed, and
the migrated schema is the one a new database gets (the FTS5 table and its own tables
aside, which SQLite makes and the metadata cannot describe)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect, text

from feedsvc.search.text import query_terms
from feedsvc.store import Store, schema_version
from feedsvc.store.schema import SEARCH_TABLES
from feedsvc.store.search import SearchQuery
from tests.conftest import make_newsroom
from tests.store.test_schema_version import diff


def md(title: str, body: str) -> str:
    return f"+++\ntitle = '{title}'\nsection = 'News'\ndate = '2026-11-01'\n+++\n\n{body}\n"


def test_0010_indexes_the_releases_already_stored(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path)
    room.write("old.md", md("Heron census", "<p>国务院关于环境保护的通知。</p>"))
    room.write("gone.md", md("Withdrawn heron", "Text."))
    room.ingest()
    (tmp_path / "items" / "gone.md").unlink()
    room.ingest()
    url = str(room.store.engine.url.render_as_string(hide_password=False))
    room.store.close()
    engine = create_engine(url)
    with engine.begin() as conn:  # back to 0009: the search columns and index gone
        command.downgrade(schema_version.config(conn), "0009")
        columns = conn.execute(text("SELECT * FROM releases")).keys()
        assert "search_text" not in columns
    engine.dispose()
    store = Store.open(url)  # upgraded to head: 0010 fills and indexes
    try:
        find = store.search.find
        assert [r.id for r in find(SearchQuery(("heron",))).releases] == ["old"]
        assert [r.id for r in find(SearchQuery(tuple(query_terms("环境")))).releases] == ["old"]
    finally:
        store.close()


def test_migrated_and_new_databases_have_the_same_schema(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path)  # a new database: the metadata, then stamped
    url = str(room.store.engine.url.render_as_string(hide_password=False))
    room.store.close()
    engine = create_engine(url)
    with engine.begin() as conn:
        command.downgrade(schema_version.config(conn), "0009")
        command.upgrade(schema_version.config(conn), "head")
    engine.dispose()
    # diff leaves out FTS5's own tables, which the metadata cannot describe: they are
    # there, and nothing else differs.
    assert diff(url) == []
    if url.startswith("sqlite"):
        engine = create_engine(url)
        assert set(SEARCH_TABLES) <= set(inspect(engine).get_table_names())
        engine.dispose()
