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

# The outbox: one row per outbound message, written in the transaction that causes it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("target", Text, nullable=False),
    Column("subject", Text),  # what it is about: a release id, a feed URL, a share
    Column("payload", Text, nullable=False),  # JSON
    Column("key", String(400), nullable=False, unique=True),  # idempotency key
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_token", String(32)),  # who holds the claim: only they record the outcome
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("deliveries_due", "status", "next_attempt_at"),
    Index("deliveries_lease", "status", "lease_until"),
    Index("deliveries_target", "channel", "target", "status"),
)

# Every attempt and how it ended, for `feedsvc outbox show`.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("outcome", String(12), nullable=False),  # delivered, retry, dead, released
    Column("error", Text),
    Index("delivery_attempts_delivery", "delivery_id", "number"),
)

# Webhook endpoints that fail or asked to be left alone (HTTP 410).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("failing_since", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
)
