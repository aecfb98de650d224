"""The change log that followers replay (issue 6: several instances on PostgreSQL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_changes",
        sa.Column(
            "generation", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", feedsvc.store.schema.UTCDateTime(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("generation"),
    )


def downgrade() -> None:
    op.drop_table("site_changes")
