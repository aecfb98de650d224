"""The files a release names (issue 14): their MediaRefs as canonical JSON, and the state
of those files when the release was read, so a scan sees a replaced photo.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: SQLite adds such a column without rewriting the table, and
    # every stored release (none names a file yet) reads as having no files. A database
    # from before migrations is completed from today's metadata (store/schema_version.py),
    # whose releases table may have them already.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("releases")}
    if "media" not in present:
        op.add_column("releases", sa.Column("media", sa.Text(), nullable=True))
    if "media_state" not in present:
        op.add_column("releases", sa.Column("media_state", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("media_state")
        batch.drop_column("media")
