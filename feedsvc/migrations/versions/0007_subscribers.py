"""Email alerts (issue 16): subscribers, one per address (a keyed hash), with the consent
record of their double opt-in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.store.schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = feedsvc.store.schema.UTCDateTime
    op.create_table(
        "subscribers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("frequency", sa.String(12), nullable=False),
        sa.Column("sections", sa.Text(), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("confirmed_at", moment(), nullable=True),
        sa.Column("consent_at", moment(), nullable=True),
        sa.Column("consent_network", sa.String(64), nullable=True),
        sa.Column("consent_form", sa.String(40), nullable=True),
        sa.Column("consent_basis", sa.String(32), nullable=True),
        sa.Column("hard_bounces", sa.Integer(), nullable=False),
        sa.Column("soft_bounces", sa.Integer(), nullable=False),
        sa.Column("last_digest_at", moment(), nullable=True),
        sa.Column("updated_at", moment(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("subscribers_address", "subscribers", ["address_hash"], unique=True)
    op.create_index("subscribers_status", "subscribers", ["status", "frequency"])
    op.create_index("subscribers_pending", "subscribers", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_table("subscribers")
