"""Search (issue 17 item 1): releases.search_text (feedsvc/search/text.py) for every stored
release, and the index that finds it: SQLite's FTS5 table and its triggers, PostgreSQL's
tsvector columns, their trigger and GIN indexes (store/schema.py's SEARCH_DDL, as a new
database gets them).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from feedsvc.search.text import index_text
from feedsvc.store.schema import SEARCH_DDL

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    # A releases table made from the metadata before migrations (schema_version's
    # baseline) has the columns, indexes and triggers already.
    inspector = sa.inspect(bind)
    present = {c["name"] for c in inspector.get_columns("releases")}
    indexed = {i["name"] for i in inspector.get_indexes("releases")}
    with op.batch_alter_table("releases") as batch:
        if "search_text" not in present:
            batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        for name in ("search_vector", "search_title"):
            if name not in present:
                column = sa.Column(name, sa.Text().with_variant(TSVECTOR(), "postgresql"))
                batch.add_column(column)
    # The triggers first: filling search_text below indexes each row as it is written.
    for statement in SEARCH_DDL.get(bind.dialect.name, ()):
        bind.exec_driver_sql(statement)
    _fill(bind)
    for name in ("search_vector", "search_title"):
        if f"releases_{name}" not in indexed:
            op.create_index(
                f"releases_{name}",
                "releases",
                [name],
                postgresql_using="gin",
                sqlite_where=sa.text(f"{name} IS NOT NULL"),
            )


def _fill(bind: sa.Connection) -> None:
    """search_text of every stored release, a batch at a time (keyset on id), in Python:
    the same function sync writes it with."""
    last = ""
    read = sa.text(
        "SELECT id, title, summary, body_html FROM releases WHERE id > :last ORDER BY id LIMIT :n"
    )
    write = sa.text("UPDATE releases SET search_text = :text WHERE id = :key")
    while rows := bind.execute(read, {"last": last, "n": BATCH}).all():
        bind.execute(
            write,
            [
                {"key": key, "text": index_text(title, summary, body)}
                for key, title, summary, body in rows
            ],
        )
        last = rows[-1][0]


def downgrade() -> None:
    bind = op.get_bind()
    for name in ("search_vector", "search_title"):
        op.drop_index(f"releases_{name}", table_name="releases")
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS releases_fts_{trigger}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS releases_fts")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS releases_search_vectors ON releases")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS releases_search_vectors()")
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("search_title")
        batch.drop_column("search_vector")
        batch.drop_column("search_text")
