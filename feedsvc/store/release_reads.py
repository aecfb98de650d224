"""The published releases as the site reads them: feeds, pages, the archive, the sitemap.
Read-only; the releases manager (store/releases.py) adds what writes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, case, func, select, true

from feedsvc.model import ListedRelease, MediaRef, Release, StoredRelease
from feedsvc.store.schema import release_tags, releases

__all__ = [
    "ReleaseReads",
    "TagCount",
    "in_chunks",
    "media_refs",
    "rows_where_in",
    "stored_release",
]

VISIBLE = and_(releases.c.seq.is_not(None), releases.c.withdrawn_at.is_(None))
# What stored_release reads: every column but the search columns, which are as long as
# the text again (search_text) or tsvectors (PostgreSQL), and which nothing read as a
# release shows (issue 18: they were a third of each row a build or page read).
STORED = tuple(
    c for c in releases.c if c.name not in ("search_text", "search_vector", "search_title")
)
# A release's tag rows, joined to the release (issue 17): visibility is the release's.
_TAGGED = releases.join(release_tags, release_tags.c.release_key == releases.c.id)

TagCount = tuple[str, str, int]  # (slug, name, visible releases)


# What a list of releases shows of each (ListedRelease's fields, in order).
_LISTED = tuple(
    releases.c[name]
    for name in (
        "release_id",
        "title",
        "section",
        "section_slug",
        "summary",
        "language",
        "published",
        "updated",
    )
)


class ReleaseReads:
    """The reads, of every language or (`in_language`) of one: a language's feeds, pages
    and archive hold its own releases only (issue 15). Reads by key see every language."""

    def __init__(self, engine: Engine, scope: str | None = None) -> None:
        self.engine = engine
        self._scope = scope  # the one language read ('' the site's own), None: every one
        self._scoped: Any = true() if scope is None else releases.c.scope == scope
        self._visible: Any = VISIBLE if scope is None else and_(VISIBLE, self._scoped)

    def in_language(self, scope: str | None) -> ReleaseReads:
        """The reads of one language (None: the site's own)."""
        return ReleaseReads(self.engine, scope or "")

    def translations(self, release_ids: Iterable[str] | None = None) -> dict[str, set[str]]:
        """release id -> the language scopes ('' for the site's own) it is visible in, for
        the given releases (or every one) that are visible in more than one: what the
        hreflang alternates and the language switcher link (issue 15)."""
        cols = releases.c
        query = select(cols.release_id, cols.scope).where(VISIBLE)
        with self.engine.connect() as conn:
            rows = rows_where_in(conn, query, cols.release_id, release_ids)
        found: dict[str, set[str]] = {}
        for rid, scope in rows:
            found.setdefault(rid, set()).add(scope)
        return {rid: scopes for rid, scopes in found.items() if len(scopes) > 1}

    def latest(self, limit: int, section_slug: str | None = None) -> list[StoredRelease]:
        """The newest visible releases, newest first."""
        cols = releases.c
        query = select(*STORED).where(self._visible)
        if section_slug is not None:
            query = query.where(cols.section_slug == section_slug)
        query = query.order_by(cols.published.desc(), cols.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [stored_release(row) for row in conn.execute(query)]

    def newest_updated(self, section_slug: str, limit: int) -> dt.datetime | None:
        """The newest `updated` among a section's `limit` newest visible releases (what its
        page and feeds list), without reading the releases themselves."""
        cols = releases.c
        query = (
            select(cols.updated)
            .where(self._visible, cols.section_slug == section_slug)
            .order_by(cols.published.desc(), cols.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return max(conn.execute(query).scalars(), default=None)

    def visible_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).where(self._visible)).scalar_one()

    def max_seq(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.coalesce(func.max(releases.c.seq), 0)).where(self._scoped)
            return conn.execute(query).scalar_one()

    def by_seq(self, first: int, last: int) -> list[StoredRelease]:
        """Visible releases with first <= seq <= last (one archive page), newest first."""
        cols = releases.c
        query = (
            select(*STORED)
            .where(self._visible, cols.seq.between(first, last))
            .order_by(cols.published.desc(), cols.id.desc())
        )
        with self.engine.connect() as conn:
            return [stored_release(row) for row in conn.execute(query)]

    def iter_visible(
        self, batch: int = 500, part: int = 0, parts: int = 1
    ) -> Iterator[StoredRelease]:
        """Every visible release (or one part of `parts`, for parallel work), newest first,
        without holding them all in memory."""
        cols = releases.c
        query = select(*STORED).where(self._visible)
        if parts > 1:
            query = query.where(cols.seq % parts == part)
        query = query.order_by(cols.published.desc(), cols.id.desc())
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(query)
            for row in result:
                yield stored_release(row)

    def listing(self, offset: int = 0, limit: int | None = None) -> list[ListedRelease]:
        """Visible releases as a list shows them, newest first (all, or one page)."""
        cols = releases.c
        query = (
            select(*_LISTED).where(self._visible).order_by(cols.published.desc(), cols.id.desc())
        )
        if limit is not None:
            query = query.offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [ListedRelease(*row) for row in conn.execute(query)]

    def listed(self, keys: list[str]) -> list[ListedRelease]:
        """The releases of `keys` as a list shows them, in that order (one index page,
        its keys taken from the build's rows: issue 18, an OFFSET read of a page sorted
        every visible release first, 30-70 ms at 10,000). Keys no longer visible are left
        out."""
        cols = releases.c
        query = select(cols.id, *_LISTED).where(self._visible)
        found: dict[str, ListedRelease] = {}
        with self.engine.connect() as conn:
            for chunk in in_chunks(keys):
                for key, *shown in conn.execute(query.where(cols.id.in_(chunk))):
                    found[key] = ListedRelease(*shown)
        return [found[key] for key in keys if key in found]

    def sitemap_entries(self) -> list[tuple[str, dt.datetime]]:
        """(id, updated) of every visible release of the language, newest first."""
        cols = releases.c
        query = (
            select(cols.release_id, cols.updated)
            .where(self._visible)
            .order_by(cols.published.desc(), cols.id.desc())
        )
        with self.engine.connect() as conn:
            return [(rid, updated) for rid, updated in conn.execute(query)]

    def page_tokens(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """key -> a token that changes whenever the release's page would: for every visible
        release of every language (or the given ones that are visible)."""
        cols = releases.c
        query = select(cols.id, cols.content_hash, cols.updated).where(VISIBLE)
        with self.engine.connect() as conn:
            rows = rows_where_in(conn, query, cols.id, ids)
        return {rid: f"{digest[:16]}.{updated.timestamp():.0f}" for rid, digest, updated in rows}

    def withdrawn_ids(self, ids: Iterable[str] | None = None) -> set[str]:
        """Keys of releases that were public and are withdrawn (their pages answer 410), of
        every language."""
        cols = releases.c
        query = select(cols.id).where(cols.seq.is_not(None), cols.withdrawn_at.is_not(None))
        with self.engine.connect() as conn:
            return {rid for (rid,) in rows_where_in(conn, query, cols.id, ids)}

    def newest_media(self, ids: Iterable[str], limit: int) -> list[tuple[MediaRef, ...]]:
        """The files of the newest `limit` visible releases among `ids` that name any
        (issue 14): only the media column, never a body, and nothing for the many releases
        of an import that name none."""
        cols = releases.c
        query = select(cols.published, cols.media).where(VISIBLE, cols.media.is_not(None))
        with self.engine.connect() as conn:
            rows = rows_where_in(conn, query, cols.id, ids)
        rows.sort(key=lambda row: row[0], reverse=True)
        return [media_refs(stored) for _, stored in rows[:limit]]

    def get(self, release_id: str) -> StoredRelease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*STORED).where(releases.c.id == release_id)).first()
        return None if row is None else stored_release(row)

    def sections(self, slugs: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(slug, name) of every section that ever had a published release, by slug: a
        section whose releases were all withdrawn keeps a (valid, empty) feed, so its
        subscribers see tombstones, not a 404. When releases spell a section differently,
        the most recent spelling names it."""
        cols = releases.c
        # Issue 18: each slug found once in the index, then its newest published spelling
        # by the index in reverse; grouping every release by slug and spelling read all
        # their rows (5 ms of each release added at 10,000, 20 ms for the whole list).
        distinct = select(cols.section_slug.label("slug")).where(self._scoped).distinct()
        if slugs is not None:
            distinct = distinct.where(cols.section_slug.in_(sorted(slugs)))
        listed = distinct.subquery()
        named = releases.alias()
        same = () if self._scope is None else (named.c.scope == self._scope,)
        newest = (
            select(named.c.section)
            .where(named.c.section_slug == listed.c.slug, named.c.seq.is_not(None), *same)
            .order_by(named.c.published.desc(), named.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(listed.c.slug, newest)).all()
        return sorted((slug, name) for slug, name in rows if name is not None)

    def withdrawn_since(
        self, since: dt.datetime, section_slug: str | None = None
    ) -> list[StoredRelease]:
        """Releases that were public and were withdrawn after `since`: Atom tombstones."""
        cols = releases.c
        query = select(*STORED).where(
            cols.seq.is_not(None),
            cols.withdrawn_at.is_not(None),
            cols.withdrawn_at > since,
            self._scoped,
        )
        if section_slug is not None:
            query = query.where(cols.section_slug == section_slug)
        query = query.order_by(cols.withdrawn_at.desc(), cols.id)
        with self.engine.connect() as conn:
            return [stored_release(row) for row in conn.execute(query)]

    # -- tags (issue 17) ---------------------------------------------------------------------

    def tags(self, slugs: Iterable[str] | None = None) -> list[TagCount]:
        """(slug, name, visible releases) of every tag (or the given ones) that a published
        release ever had, by slug: as a section, a tag whose releases were all withdrawn
        keeps its (empty) feed of tombstones, with a count of 0. The most recent spelling
        names it."""
        cols, tag = releases.c, release_tags.c
        visible = func.sum(case((cols.withdrawn_at.is_(None), 1), else_=0))
        query = (
            select(tag.slug, tag.name, func.max(cols.published), visible)
            .select_from(_TAGGED)
            .where(cols.seq.is_not(None), self._scoped)
            .group_by(tag.slug, tag.name)
            .order_by(tag.slug, func.max(cols.published), tag.name)
        )
        if slugs is not None:
            query = query.where(tag.slug.in_(sorted(slugs)))
        found: dict[str, tuple[str, int]] = {}
        with self.engine.connect() as conn:
            for slug, name, _, count in conn.execute(query):
                found[slug] = (name, found.get(slug, ("", 0))[1] + int(count or 0))
        return [(slug, name, count) for slug, (name, count) in sorted(found.items())]

    def tag_latest(self, slug: str, limit: int) -> list[StoredRelease]:
        """A tag's newest visible releases, ordered as a section's feed (latest)."""
        cols = releases.c
        query = (
            select(*STORED)
            .select_from(_TAGGED)
            .where(self._visible, release_tags.c.slug == slug)
            .order_by(cols.published.desc(), cols.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [stored_release(row) for row in conn.execute(query)]

    def tag_withdrawn_since(self, since: dt.datetime, slug: str) -> list[StoredRelease]:
        """A tag's releases that were public and were withdrawn after `since` (its feeds'
        tombstones; the tag rows stay when a release is withdrawn)."""
        cols = releases.c
        query = (
            select(*STORED)
            .select_from(_TAGGED)
            .where(
                cols.seq.is_not(None),
                cols.withdrawn_at.is_not(None),
                cols.withdrawn_at > since,
                self._scoped,
                release_tags.c.slug == slug,
            )
            .order_by(cols.withdrawn_at.desc(), cols.id)
        )
        with self.engine.connect() as conn:
            return [stored_release(row) for row in conn.execute(query)]


def rows_where_in(
    conn: Connection, query: Any, column: Any, keys: Iterable[str] | None
) -> list[Any]:
    """The query's rows: all of them, or those whose `column` is one of `keys`, asked in IN
    lists of a size every database accepts."""
    if keys is None:
        return list(conn.execute(query).all())  # fetched at once: a scan reads 10,000
    return [
        row
        for chunk in in_chunks(sorted(keys))
        for row in conn.execute(query.where(column.in_(chunk)))
    ]


def in_chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """IN lists of a size every database accepts."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def stored_release(row: Row[Any]) -> StoredRelease:
    m = row._mapping
    release = Release(
        id=m["release_id"],
        key=m["id"],
        title=m["title"],
        section=m["section"],
        published=m["published"],
        body_html=m["body_html"],
        summary=m["summary"],
        language=m["language"],
        source=m["source"],
        content_hash=m["content_hash"],
        tags=tuple(json.loads(m["tags"])),
        author=m["author"],
        publish_at=m["publish_at"],
        updated=m["updated_in_file"],
        media=media_refs(m["media"]),
        change_note=m["change_note"],
        contact=m["contact"],
        notes_to_editors=tuple(json.loads(m["notes_to_editors"] or "[]")),
    )
    return StoredRelease(
        release=release,
        seq=m["seq"],
        tag_date=m["tag_date"],
        updated=m["updated"],
        withdrawn_at=m["withdrawn_at"],
    )


def media_refs(stored: str | None) -> tuple[MediaRef, ...]:
    """A release's files as stored (plan.media_json); none for NULL."""
    if stored is None:
        return ()
    return tuple(MediaRef(**fields) for fields in json.loads(stored))
