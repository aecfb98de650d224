"""The schema as of issues 2-5: releases, the outbox, shares.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One function a concern (issue 13: no function over ~60 lines); the same operations in
    # the same order as the generated upgrade had.
    _outbox()
    _releases()
    _shares()
    _webhook_endpoints()


def _outbox() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("lease_until", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("deliveries_due", "deliveries", ["status", "next_attempt_at"], unique=False)
    op.create_index("deliveries_lease", "deliveries", ["status", "lease_until"], unique=False)
    op.create_index(
        "deliveries_target", "deliveries", ["channel", "target", "status"], unique=False
    )
    op.create_table(
        "delivery_attempts",
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("finished_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index(
        "delivery_attempts_delivery", "delivery_attempts", ["delivery_id", "number"], unique=False
    )


def _releases() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("section_slug", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("published", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("updated", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("updated_in_file", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("publish_at", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("tag_date", sa.Date(), nullable=False),
        sa.Column("withdrawn_at", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("releases_published", "releases", ["published", "id"], unique=False)
    op.create_index(
        "releases_section", "releases", ["section_slug", "published", "id"], unique=False
    )
    op.create_index("releases_source", "releases", ["source"], unique=False)
    op.create_index("releases_withdrawn", "releases", ["withdrawn_at"], unique=False)


def _shares() -> None:
    op.create_table(
        "share_recipients",
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
    )
    op.create_index(
        "share_recipients_hash", "share_recipients", ["recipient_hash", "created_at"], unique=False
    )
    op.create_index("share_recipients_share", "share_recipients", ["share_id"], unique=False)
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("release_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=True),
        sa.Column("sender_name", sa.Text(), nullable=True),
        sa.Column("sender_email", sa.Text(), nullable=True),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("erased_at", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("trapped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("shares_created", "shares", ["created_at"], unique=False)
    op.create_index("shares_ip", "shares", ["ip_hash", "created_at"], unique=False)
    op.create_index("shares_release", "shares", ["release_id"], unique=False)
    op.create_index("shares_sender", "shares", ["sender_hash", "created_at"], unique=False)
    op.create_table(
        "suppressions",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "used_tokens",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("used_at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("used_tokens_used", "used_tokens", ["used_at"], unique=False)


def _webhook_endpoints() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("failing_since", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", feedsvc.store.schema.UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("url"),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoints")
    op.drop_index("used_tokens_used", table_name="used_tokens")
    op.drop_table("used_tokens")
    op.drop_table("suppressions")
    op.drop_index("shares_sender", table_name="shares")
    op.drop_index("shares_release", table_name="shares")
    op.drop_index("shares_ip", table_name="shares")
    op.drop_index("shares_created", table_name="shares")
    op.drop_table("shares")
    op.drop_index("share_recipients_share", table_name="share_recipients")
    op.drop_index("share_recipients_hash", table_name="share_recipients")
    op.drop_table("share_recipients")
    op.drop_index("releases_withdrawn", table_name="releases")
    op.drop_index("releases_source", table_name="releases")
    op.drop_index("releases_section", table_name="releases")
    op.drop_index("releases_published", table_name="releases")
    op.drop_table("releases")
    op.drop_index("delivery_attempts_delivery", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index("deliveries_target", table_name="deliveries")
    op.drop_index("deliveries_lease", table_name="deliveries")
    op.drop_index("deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
