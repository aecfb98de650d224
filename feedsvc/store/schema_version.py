"""Bringing a database's schema to the one this code needs, with Alembic.

A new, empty database gets the whole schema at once from the metadata and is stamped at the
newest revision (Alembic's recipe for building a database from scratch; a test shows the
migrations produce the same schema). A database made before migrations existed (issues 2-5
created tables from the metadata) is stamped at the first revision, then upgraded. On
PostgreSQL an advisory lock makes instances starting together take turns.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from feedsvc.errors import FeedsvcError
from feedsvc.store.schema import metadata

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
    cfg = Config()
    cfg.set_main_option("script_location", "feedsvc:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, allowed: bool = True) -> str:
    """Bring the schema to head; returns what was done. With `allowed` false, a database
    that needs changes is an error naming `feedsvc db upgrade`."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        ours = set(metadata.tables)
        present = set(inspect(conn).get_table_names()) & ours
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
