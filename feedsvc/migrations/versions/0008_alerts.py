"""Email alerts sent (issue 16): releases' change notes, the consent record's note, what
subscribers are told of (alert_items), the subscribe form's limits (subscription_requests),
and an index that claims shares and webhooks before a fan-out of alerts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = feedsvc.store.schema.UTCDateTime
    bigint = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    # A database from before migrations had its first tables made from today's metadata
    # (store/schema_version.py): what they already have is not added twice.
    inspector = sa.inspect(op.get_bind())
    if "change_note" not in {c["name"] for c in inspector.get_columns("releases")}:
        with op.batch_alter_table("releases") as batch:
            batch.add_column(sa.Column("change_note", sa.Text(), nullable=True))
    if "consent_note" not in {c["name"] for c in inspector.get_columns("subscribers")}:
        with op.batch_alter_table("subscribers") as batch:
            batch.add_column(sa.Column("consent_note", sa.Text(), nullable=True))
    if "deliveries_channel_due" not in {i["name"] for i in inspector.get_indexes("deliveries")}:
        op.create_index(
            "deliveries_channel_due", "deliveries", ["channel", "status", "next_attempt_at", "id"]
        )
    op.create_table(
        "alert_items",
        sa.Column("id", bigint, nullable=False),
        sa.Column("release_key", sa.String(240), nullable=False),
        sa.Column("scope", sa.String(35), nullable=False),
        sa.Column("section_slug", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", moment(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("alert_items_scope_at", "alert_items", ["scope", "at"])
    op.create_index("alert_items_release", "alert_items", ["release_key"])
    op.create_table(
        "subscription_requests",
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("ip_hash", sa.String(64), nullable=False),
        sa.Column("at", moment(), nullable=False),
        sa.Column("mailed", sa.Integer(), nullable=False),
    )
    op.create_index("subscription_requests_ip", "subscription_requests", ["ip_hash", "at"])
    op.create_index(
        "subscription_requests_address", "subscription_requests", ["address_hash", "at"]
    )
    op.create_index("subscription_requests_at", "subscription_requests", ["at"])


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("consent_note")
    op.drop_table("subscription_requests")
    op.drop_table("alert_items")
    op.drop_index("deliveries_channel_due", "deliveries")
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("change_note")
