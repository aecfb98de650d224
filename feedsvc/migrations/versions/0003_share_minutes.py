"""Shares counted per minute, for the overall limit (issue 7: constant cost under load).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "share_minutes",
        sa.Column("minute", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute"),
    )
    # What the shares table already says about the last hour (the limit's window).
    created = sa.table("shares", sa.column("created_at", feedsvc.store.schema.UTCDateTime()))
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    moments = op.get_bind().execute(
        sa.select(created.c.created_at).where(created.c.created_at > since)
    )
    per_minute = Counter(m.replace(second=0, microsecond=0) for m in moments.scalars())
    if per_minute:
        op.bulk_insert(
            table,
            [{"minute": minute, "count": n} for minute, n in sorted(per_minute.items())],
        )


def downgrade() -> None:
    op.drop_table("share_minutes")
