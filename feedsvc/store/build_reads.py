"""What a build reads of the store in bulk before rendering (issue 18 item 2): every
release that was ever public, for the documents' version keys (publishing/doc_keys.py),
and the releases that name files, for the export's media step."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import Engine, String, select, type_coerce

from feedsvc.model import StoredRelease
from feedsvc.store.release_reads import STORED, VISIBLE, stored_release
from feedsvc.store.schema import release_tags, releases

__all__ = [
    "PublishedRow",
    "SitemapEntry",
    "published_rows",
    "sitemap_listings",
    "sitemap_reads",
    "with_files",
]

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
    state: str  # the shown columns, joined
    # What the sitemap shows or dates by (sitemap_keys.py), as the driver gives them.
    updated: object
    section: str
    published: object


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
        # By position, one tuple a row: attribute access on 10,000 rows cost a second build
        # a tenth of a second (issue 18).
        rows = [_row(withdrawn, shown) for withdrawn, *shown in conn.execute(query).all()]
        tagged = [(k, slug, scope) for k, slug, scope in conn.execute(tag_query).all()]
    return rows, tagged


_AT = {name: i for i, name in enumerate(_SHOWN)}
_PICK = operator.itemgetter(*(_AT[n] for n in ("id", "release_id", "scope", "section_slug", "seq")))
_SITEMAP = operator.itemgetter(*(_AT[n] for n in ("updated", "section", "published")))


def _row(withdrawn: dt.datetime | None, shown: list[Any]) -> PublishedRow:
    key, release_id, scope, slug, seq = _PICK(shown)
    return PublishedRow(
        key,
        release_id,
        scope,
        slug,
        int(seq),
        withdrawn,
        "\x1f".join(map(str, shown)),
        *_SITEMAP(shown),
    )


class SitemapEntry(NamedTuple):
    """What the sitemap reads of a visible release (ListedRelease's fields it uses)."""

    id: str
    section_slug: str
    updated: dt.datetime


def sitemap_listings(engine: Engine) -> dict[str, list[SitemapEntry]]:
    """scope ('' the site's own) -> its visible releases, newest first (ReleaseReads.listing's
    order): a third of the listing's cost, which reads the summaries the sitemap does not
    show (issue 18: the sitemap is rendered again whenever a release's `updated` moves)."""
    cols = releases.c
    query = (
        select(cols.scope, cols.release_id, cols.section_slug, cols.updated)
        .where(VISIBLE)
        .order_by(cols.scope, cols.published.desc(), cols.id.desc())
    )
    listings: dict[str, list[SitemapEntry]] = {}
    with engine.connect() as conn:
        for scope, *entry in conn.execute(query):
            listings.setdefault(scope, []).append(SitemapEntry(*entry))
    return listings


def sitemap_reads(
    engine: Engine, rows: list[PublishedRow]
) -> tuple[dict[str, list[SitemapEntry]], dict[str, list[str]]]:
    """What `sitemap_listings` and each language's section slugs read, from the rows
    `published_rows` read for the keys (issue 18: the build read both again, ~60 ms at
    10,000): scope -> its visible releases in the same order (published_rows' order, less
    the withdrawn), and scope -> the slug of every section a published release ever had,
    sorted (ReleaseReads.sections' slugs: the sitemap shows no names)."""
    convert = releases.c.updated.type.dialect_impl(engine.dialect).result_processor(
        engine.dialect, None
    )
    listings: dict[str, list[SitemapEntry]] = {}
    slugs: dict[str, set[str]] = {}
    for row in rows:
        slugs.setdefault(row.scope, set()).add(row.section_slug)
        if row.withdrawn_at is None:
            updated = row.updated if convert is None else convert(row.updated)
            listings.setdefault(row.scope, []).append(
                SitemapEntry(row.release_id, row.section_slug, updated)
            )
    return listings, {scope: sorted(found) for scope, found in slugs.items()}


def with_files(engine: Engine) -> Iterator[StoredRelease]:
    """The visible releases that name files: only those have any to export, and reading
    every release's row for them cost a second build as much as its whole rest (issue 18)."""
    query = select(*STORED).where(VISIBLE, releases.c.media.is_not(None))
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=500).execute(query):
            yield stored_release(row)
