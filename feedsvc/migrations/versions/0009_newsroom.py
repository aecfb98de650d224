"""The newsroom (issue 17): releases' media contact and notes to editors, and their tags
as rows (release_tags), filled from the tags each stored release already has.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from feedsvc.model import tag_slug

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns("releases")}
    with op.batch_alter_table("releases") as batch:
        if "contact" not in present:
            batch.add_column(sa.Column("contact", sa.String(64), nullable=True))
        if "notes_to_editors" not in present:
            batch.add_column(sa.Column("notes_to_editors", sa.Text(), nullable=True))
    tags = op.create_table(
        "release_tags",
        sa.Column("release_key", sa.String(240), primary_key=True),
        sa.Column("slug", sa.String(200), primary_key=True),
        sa.Column("scope", sa.String(35), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_index("release_tags_scope_slug", "release_tags", ["scope", "slug"])
    bind = op.get_bind()
    rows = []
    for key, scope, text in bind.execute(sa.text("SELECT id, scope, tags FROM releases")):
        seen: dict[str, str] = {}
        for name in json.loads(text):
            seen.setdefault(tag_slug(name), name)
        rows += [
            {"release_key": key, "slug": slug, "scope": scope, "name": name}
            for slug, name in seen.items()
        ]
        if len(rows) >= 5000:
            op.bulk_insert(tags, rows)
            rows = []
    if rows:
        op.bulk_insert(tags, rows)


def downgrade() -> None:
    op.drop_index("release_tags_scope_slug", table_name="release_tags")
    op.drop_table("release_tags")
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("notes_to_editors")
        batch.drop_column("contact")
