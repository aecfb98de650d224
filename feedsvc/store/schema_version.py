"""Bringing a database's schema to the one this code needs, with Alembic.

A new, empty database gets the whole schema at once from the metadata and is stamped at the
newest revision (Alembic's recipe for building a database from scratch; a test shows the
migrations produce the same schema). A database made before migrations existed (issues 2-5
created tables from the metadata) is stamped at the first revision, then upgraded. On
PostgreSQL an advisory lock makes instances starting together take turns. A database
already at HEAD is told apart without importing Alembic (issue 18 item 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from feedsvc.errors import FeedsvcError
from feedsvc.store.schema import metadata

if TYPE_CHECKING:  # Alembic is imported only to migrate or describe (issue 18 item 2)
    from alembic.config import Config

# The newest revision in feedsvc/migrations/versions: a database stamped with it opens
# without importing Alembic (~0.2 s of every `feedsvc build`, issue 18 item 2).
# tests/store/test_schema_head.py holds it equal to Alembic's head: bump it with each new
# migration.
HEAD = "0010"
VERSION_TABLE = "alembic_version"  # Alembic's default; migrations/env.py keeps it

MIGRATE_LOCK = 0x66656564  # "feed": the advisory lock taken while migrating
# The tables of revision 0001, as `metadata.create_all` made them before migrations.
BASELINE_TABLES = (
    "releases",
    "deliveries",
    "delivery_attempts",
    "webhook_endpoints",
    "shares",
    "share_recipients",
    "suppressions",
    "used_tokens",
)


class SchemaError(FeedsvcError):
    """The database's schema is not the one this feedsvc needs, and may not be changed."""


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "feedsvc:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision as Alembic finds it in the scripts (HEAD is the quick answer)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored(conn: Connection) -> set[str]:
    """The revisions the database is stamped with, read as Alembic stores them (one row a
    head), without Alembic."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return set()
    return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}


def upgrade(engine: Engine, allowed: bool = True) -> str:
    """Bring the schema to head; returns what was done. With `allowed` false, a database
    that needs changes is an error naming `feedsvc db upgrade`."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        if _stored(conn) == {HEAD}:
            return "current"  # the usual case, decided without Alembic
        return _migrate(conn, allowed)


def _migrate(conn: Connection, allowed: bool) -> str:
    from alembic import command
    from alembic.migration import MigrationContext

    present = set(inspect(conn).get_table_names()) & set(metadata.tables)
    revision = MigrationContext.configure(conn).get_current_revision()
    newest = head()
    if revision == newest:
        return "current"
    if not allowed:
        raise SchemaError(
            f"the database schema is at {revision or 'no revision'}, this feedsvc needs "
            f"{newest}: run `feedsvc db upgrade` (or set database.auto_upgrade = true)"
        )
    if revision is None and not present:
        metadata.create_all(conn)
        command.stamp(config(conn), newest)
        return f"created at {newest}"
    if revision is None:
        # Made from the metadata before there were migrations: complete it as of the
        # first revision, say so, and migrate from there.
        metadata.create_all(conn, tables=[metadata.tables[n] for n in BASELINE_TABLES])
        command.stamp(config(conn), "0001")
    command.upgrade(config(conn), "head")
    return f"upgraded from {revision or '0001'} to {newest}"
