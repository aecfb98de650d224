"""Who reads the feeds: subscriber counts reported by feed fetchers, and other clients
counted as keyed hashes per day (issue 12 item 11).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_readers",
        sa.Column("feed", sa.String(500), nullable=False),
        sa.Column("fetcher", sa.String(300), nullable=False),
        sa.Column("reader", sa.String(100), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=False),
        sa.Column("last_seen", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("feed", "fetcher"),
    )
    op.create_index("feed_readers_seen", "feed_readers", ["last_seen"])
    op.create_table(
        "feed_clients",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feed", sa.String(500), nullable=False),
        sa.Column("client", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("day", "feed", "client"),
    )


def downgrade() -> None:
    op.drop_table("feed_clients")
    op.drop_index("feed_readers_seen", table_name="feed_readers")
    op.drop_table("feed_readers")
