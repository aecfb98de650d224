"""The schema: one definition for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


metadata = MetaData()

releases = Table(
    "releases",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source", Text, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("section", Text, nullable=False),
    Column("section_slug", String(200), nullable=False),
    Column("language", String(35), nullable=False),
    Column("tags", Text, nullable=False),  # JSON list
    Column("author", Text),
    Column("summary", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("updated_in_file", UTCDateTime),
    Column("publish_at", UTCDateTime),
    # Set when the release first becomes visible; never changed after.
    Column("seq", Integer, unique=True),
    Column("tag_date", Date, nullable=False),
    Column("withdrawn_at", UTCDateTime),
    Index("releases_published", "published", "id"),
    Index("releases_section", "section_slug", "published", "id"),
    Index("releases_source", "source"),
    Index("releases_withdrawn", "withdrawn_at"),
)
