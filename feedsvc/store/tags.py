"""A release's tags as rows (issue 17): written in the sync transaction that stores the
release, and the tags a change touched, so that only their pages and feeds are rendered
again."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from feedsvc.model import Changes, scoped, tag_slug
from feedsvc.store.release_reads import in_chunks
from feedsvc.store.schema import release_tags, releases


def tag_rows(values: dict[str, Any]) -> list[dict[str, str]]:
    """The rows of a release's stored values (plan.release_values): one per slug, the
    first name given for it kept."""
    rows: dict[str, dict[str, str]] = {}
    for name in json.loads(values["tags"]):
        slug = tag_slug(name)
        rows.setdefault(
            slug,
            {"release_key": values["id"], "slug": slug, "scope": values["scope"], "name": name},
        )
    return list(rows.values())


def write_tags(
    conn: Connection,
    added: list[dict[str, Any]],
    edited: list[dict[str, Any]],
    withdrawn: list[str],
    changes: Changes,
) -> None:
    """Replace the tag rows of added and edited releases; note in `changes.tags` the tags
    a reader could see change: those public releases edited or withdrawn had and have now
    (as `changes.sections`: an embargoed release changes no public tag, and its tags' names
    are not told to hubs early). Added releases become public in publish_due (`noted`)."""
    edited_keys = [values["b_id"] for values in edited]
    public = _were_public(conn, edited_keys + withdrawn)
    noted(conn, public, changes)
    for chunk in in_chunks(edited_keys):
        conn.execute(delete(release_tags).where(release_tags.c.release_key.in_(chunk)))
    rows = [row for values in added + edited for row in tag_rows(values)]
    if rows:
        conn.execute(insert(release_tags), rows)
    changes.tags |= {
        scoped(row["slug"], row["scope"] or None) for row in rows if row["release_key"] in public
    }


def _were_public(conn: Connection, keys: list[str]) -> set[str]:
    """The keys of releases that have been visible (a seq is never taken back)."""
    c = releases.c
    public: set[str] = set()
    for chunk in in_chunks(sorted(set(keys))):
        public.update(conn.scalars(select(c.id).where(c.id.in_(chunk), c.seq.is_not(None))))
    return public


def noted(conn: Connection, keys: Iterable[str], changes: Changes) -> None:
    """Add to `changes.tags` the stored tags of the releases `keys`."""
    c = release_tags.c
    for chunk in in_chunks(sorted(set(keys))):
        for slug, scope in conn.execute(select(c.slug, c.scope).where(c.release_key.in_(chunk))):
            changes.tags.add(scoped(slug, scope or None))
