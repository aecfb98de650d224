"""Releases in several languages (issue 15): a row's `id` is the release's key (the id,
or "<id>@<tag>" for a translation); `release_id` links translations; `scope` is the
language a row is published under ('' for the site's own), and `seq` counts within it,
so each language has its own archive pages. `store_facts` remembers the languages the
items folder was read with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    present = {column["name"] for column in sa.inspect(bind).get_columns("releases")}
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite(bind, present)
    else:
        _alter_postgresql(bind, present)
    indexes = {index["name"] for index in sa.inspect(bind).get_indexes("releases")}
    for name in ("releases_published", "releases_section", "releases_scope_seq"):
        if name in indexes:
            op.drop_index(name, table_name="releases")
    op.create_index("releases_scope_seq", "releases", ["scope", "seq"], unique=True)
    op.create_index("releases_published", "releases", ["scope", "published", "id"])
    op.create_index("releases_section", "releases", ["scope", "section_slug", "published", "id"])
    if "releases_release_id" not in indexes:
        op.create_index("releases_release_id", "releases", ["release_id"])
    # A share names the release's key, as long as releases.id now.
    with op.batch_alter_table("shares") as batch:
        batch.alter_column("release_id", type_=sa.String(240), existing_nullable=False)
    if "store_facts" not in sa.inspect(bind).get_table_names():
        op.create_table(
            "store_facts",
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("value", sa.Text(), nullable=False),
        )


def _alter_postgresql(bind: sa.Connection, present: set[str]) -> None:
    # Every stored release was published in the site's own language: its key is its id.
    if "release_id" not in present:
        op.add_column("releases", sa.Column("release_id", sa.String(200), nullable=True))
        op.execute("UPDATE releases SET release_id = id")
        op.alter_column("releases", "release_id", nullable=False)
    if "scope" not in present:
        op.add_column(
            "releases", sa.Column("scope", sa.String(35), nullable=False, server_default="")
        )
    op.alter_column("releases", "id", type_=sa.String(240), existing_nullable=False)
    for constraint in sa.inspect(bind).get_unique_constraints("releases"):
        if constraint["column_names"] == ["seq"] and constraint["name"]:
            op.drop_constraint(constraint["name"], "releases", type_="unique")


def _rebuild_sqlite(bind: sa.Connection, present: set[str]) -> None:
    """SQLite cannot drop the unnamed UNIQUE(seq) of revision 0001: the table is made anew
    (as SQLite's documentation says to) and its rows copied."""
    columns = [c["name"] for c in sa.inspect(bind).get_columns("releases") if c["name"] in _COLUMNS]
    new = sa.Table("releases_0006", sa.MetaData(), *(_column(n) for n in _COLUMNS))
    new.create(bind)
    copied = [c for c in columns if c not in ("release_id", "scope")]
    filled = [*copied, "release_id", "scope"]
    release_id = "release_id" if "release_id" in present else "id"
    scope = "scope" if "scope" in present else "''"
    names = ", ".join(copied)
    op.execute(
        f"INSERT INTO releases_0006 ({', '.join(filled)}) "
        f"SELECT {names}, {release_id}, {scope} FROM releases"
    )
    op.drop_table("releases")
    op.rename_table("releases_0006", "releases")
    op.create_index("releases_source", "releases", ["source"])
    op.create_index("releases_withdrawn", "releases", ["withdrawn_at"])


# The releases table as of this revision (not imported from schema.py, which moves on).
_COLUMNS = (
    "id", "release_id", "scope", "source", "mtime_ns", "size", "content_hash", "title",
    "section", "section_slug", "language", "tags", "author", "summary", "body_html",
    "published", "updated", "updated_in_file", "publish_at", "seq", "tag_date",
    "withdrawn_at", "media", "media_state",
)  # fmt: skip


def _column(name: str) -> sa.Column[object]:
    moment = sa.DateTime()
    kinds: dict[str, tuple[sa.types.TypeEngine[object], bool]] = {
        "id": (sa.String(240), False),
        "release_id": (sa.String(200), False),
        "scope": (sa.String(35), False),
        "source": (sa.Text(), False),
        "mtime_ns": (sa.BigInteger(), False),
        "size": (sa.BigInteger(), False),
        "content_hash": (sa.String(64), False),
        "title": (sa.Text(), False),
        "section": (sa.Text(), False),
        "section_slug": (sa.String(200), False),
        "language": (sa.String(35), False),
        "tags": (sa.Text(), False),
        "author": (sa.Text(), True),
        "summary": (sa.Text(), False),
        "body_html": (sa.Text(), False),
        "published": (moment, False),
        "updated": (moment, False),
        "updated_in_file": (moment, True),
        "publish_at": (moment, True),
        "seq": (sa.Integer(), True),
        "tag_date": (sa.Date(), False),
        "withdrawn_at": (moment, True),
        "media": (sa.Text(), True),
        "media_state": (sa.String(64), True),
    }
    kind, nullable = kinds[name]
    extra = {"server_default": ""} if name == "scope" else {}
    return sa.Column(name, kind, primary_key=name == "id", nullable=nullable, **extra)


def downgrade() -> None:
    raise NotImplementedError("releases in several languages cannot be folded back into one")
