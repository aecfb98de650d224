"""What a build reads of the store in bulk before rendering (issue 18 item 2): every
release that was ever public, for the documents' version keys (publishing/doc_keys.py),
and the releases that name files, for the export's media step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import Engine, Row, String, select, type_coerce

from feedsvc.model import StoredRelease
from feedsvc.store.release_reads import VISIBLE, stored_release
from feedsvc.store.schema import release_tags, releases

__all__ = ["PublishedRow", "published_rows", "with_files"]

# Every column a document may show, bar the texts (content_hash digests the file they were
# read from) and what only search or ingest reads.
_SHOWN = (
    "id",
    "release_id",
    "scope",
    "source",
    "content_hash",
    "title",
    "section",
    "section_slug",
    "language",
    "tags",
    "author",
    "published",
    "updated",
    "updated_in_file",
    "publish_at",
    "seq",
    "tag_date",
    "withdrawn_at",
    "media",
    "media_state",
    "change_note",
    "contact",
    "notes_to_editors",
)


class PublishedRow(NamedTuple):
    key: str
    release_id: str
    scope: str
    section_slug: str
    seq: int
    withdrawn_at: dt.datetime | None
    state: str  # repr of the shown columns


def published_rows(engine: Engine) -> tuple[list[PublishedRow], list[tuple[str, str, str]]]:
    """Every release that was ever public, each language's newest first (the index's order:
    the database's own, so its collation decides ties as it does for the pages); and the
    tags of those releases, as (release key, slug, scope)."""
    cols = releases.c
    # As the driver gives them (no per-value conversion: 10,000 rows are read each build);
    # only withdrawn_at is compared, with the tombstone cutoff.
    query = (
        select(
            cols.withdrawn_at.label("withdrawn"),
            *(type_coerce(cols[name], String).label(name) for name in _SHOWN),
        )
        .where(cols.seq.is_not(None))
        .order_by(cols.scope, cols.published.desc(), cols.id.desc())
    )
    tags = release_tags.c
    tag_query = (
        select(tags.release_key, tags.slug, tags.scope)
        .select_from(release_tags.join(releases, releases.c.id == tags.release_key))
        .where(cols.seq.is_not(None))
        .order_by(tags.scope, tags.slug, tags.release_key)
    )
    with engine.connect() as conn:
        rows = [
            PublishedRow(
                r.id, r.release_id, r.scope, r.section_slug, int(r.seq), r.withdrawn, _state(r)
            )
            for r in conn.execute(query)
        ]
        tagged = [(k, slug, scope) for k, slug, scope in conn.execute(tag_query)]
    return rows, tagged


def _state(row: Row[Any]) -> str:
    return "\x1f".join(map(str, row[1:]))


def with_files(engine: Engine) -> Iterator[StoredRelease]:
    """The visible releases that name files: only those have any to export, and reading
    every release's row for them cost a second build as much as its whole rest (issue 18)."""
    query = select(releases).where(VISIBLE, releases.c.media.is_not(None))
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=500).execute(query):
            yield stored_release(row)
