"""The store: the single source of truth, and the only place that knows SQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Row,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from feedsvc.model import FileState, ListedRelease, Outgoing, Release, StoredRelease
from feedsvc.privacy import private_file, private_folder
from feedsvc.store import schema_version
from feedsvc.store.outbox import RELEASES_LOCK, Outbox, enqueue, writing
from feedsvc.store.schema import releases, site_changes

__all__ = ["Announce", "Changes", "FileState", "ReleaseEvent", "Scheduled", "Store"]

_ANALYZE_AFTER = 100  # rows inserted or published at once
_VISIBLE = and_(releases.c.seq.is_not(None), releases.c.withdrawn_at.is_(None))
_DUE = select(releases.c.id).where(
    releases.c.seq.is_(None),
    releases.c.withdrawn_at.is_(None),
    or_(releases.c.publish_at.is_(None), releases.c.publish_at <= bindparam("now")),
)


@dataclass
class Changes:
    """What one ingest changed, so rendering can follow it instead of redoing everything."""

    added: list[str] = field(default_factory=list)  # stored, maybe still under embargo
    updated: list[str] = field(default_factory=list)  # content changed (visible or not)
    withdrawn: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # became visible now (seq assigned)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (path, id, other)
    sections: set[str] = field(default_factory=set)  # slugs whose feeds changed
    seqs: set[int] = field(default_factory=set)  # archive positions whose pages changed
    # What readers outside should hear of: (event type, release id), for public releases only.
    events: list[tuple[str, str]] = field(default_factory=list)
    enqueued: int = 0  # deliveries the outbox took in the same transaction
    generation: int = 0  # its place in the change log (site_changes), once recorded

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.withdrawn or self.published)

    def merge(self, other: Changes) -> None:
        self.added += other.added
        self.updated += other.updated
        self.withdrawn += other.withdrawn
        self.published += other.published
        self.duplicates += other.duplicates
        self.sections |= other.sections
        self.seqs |= other.seqs
        self.events += other.events
        self.enqueued += other.enqueued


@dataclass(frozen=True)
class ReleaseEvent:
    type: str  # release.published, release.updated, release.withdrawn
    release: StoredRelease


@dataclass(frozen=True)
class Scheduled:
    """A stored release waiting for its embargo to pass."""

    id: str
    title: str
    publish_at: dt.datetime


# Turns a change into the messages that announce it (webhooks, hub pings): called inside
# the transaction that makes the change, so the change and its messages commit together.
# The events are read from the store as they are taken, a chunk at a time, and only then:
# take them (and give back the messages) one at a time, within the call.
Announce = Callable[[Changes, Iterable[ReleaseEvent], dt.datetime], Iterable[Outgoing]]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outbox = Outbox(engine)
        self.announce: Announce | None = None

    @classmethod
    def open(cls, url: str, upgrade: bool = True) -> Store:
        """Open the database at `url` (SQLite or PostgreSQL), bringing its schema up to
        date (or, with `upgrade` false, refusing one that is not)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            _private_database(Path(parsed.database))
        # Statement parameters (addresses, names, messages) never reach a log line or an
        # error message, even with SQLAlchemy's logging on (issue 11).
        if parsed.get_backend_name() == "postgresql":
            # Connections are checked before use: a PostgreSQL restart or a dropped idle
            # connection costs a retry, not a failed request.
            engine = create_engine(
                url, pool_pre_ping=True, pool_size=8, max_overflow=8, hide_parameters=True
            )
        else:
            engine = create_engine(url, hide_parameters=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        schema_version.upgrade(engine, allowed=upgrade)
        return cls(engine)

    def close(self) -> None:
        if self.engine.dialect.name == "sqlite":
            try:
                with writing(self.engine) as conn:
                    conn.exec_driver_sql("PRAGMA optimize")  # SQLite's advice for every close
            except OperationalError:
                pass  # advice only: another process holding the database must not fail a close
        self.engine.dispose()

    # -- ingest ---------------------------------------------------------------------------

    def file_states(self, sources: Iterable[str] | None = None) -> dict[str, FileState]:
        """The state of each live release's file (or of the given ones) when last read."""
        cols = releases.c
        query = select(cols.source, cols.mtime_ns, cols.size).where(cols.withdrawn_at.is_(None))
        with self.engine.connect() as conn:
            if sources is None:
                rows = conn.execute(query)
                return {src: FileState(m, s) for src, m, s in rows}
            return {
                src: FileState(m, s)
                for chunk in _chunks(sorted(sources))
                for src, m, s in conn.execute(query.where(cols.source.in_(chunk)))
            }

    def sync(
        self,
        read: Iterable[tuple[Release, FileState]],
        gone: Iterable[str],
        now: dt.datetime,
        tz: dt.tzinfo,
        publish: bool = True,
    ) -> Changes:
        """Bring the store in line with the files: insert new releases, update edited ones,
        withdraw those whose file is `gone`. Files that are present but unreadable (bad)
        are simply not in `read`: their last good release stays as it was. Only the rows
        that `read` and `gone` name are looked at, so the cost follows the change."""
        changes = Changes()
        cols = releases.c
        read = sorted(read, key=lambda item: item[0].source)
        gone = set(gone)
        if not read and not gone:
            # An idle scan: no write lock for nothing (another writer may want it).
            return self.publish_due(now) if publish else changes
        wanted = (
            cols.id,
            cols.source,
            cols.content_hash,
            cols.withdrawn_at,
            cols.seq,
            cols.section_slug,
            cols.published,
        )
        with writing(self.engine, RELEASES_LOCK) as conn:
            existing = {
                row.id: row
                for chunk in _chunks([r.id for r, _ in read])
                for row in conn.execute(select(*wanted).where(cols.id.in_(chunk)))
            }
            # Rows of the files read (their id may have changed) and of the files gone.
            live_by_source = [
                row
                for chunk in _chunks([r.source for r, _ in read] + sorted(gone))
                for row in conn.execute(
                    select(*wanted).where(cols.source.in_(chunk), cols.withdrawn_at.is_(None))
                )
            ]
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            touches: list[dict[str, Any]] = []
            claimed: dict[str, str] = {}  # id -> source that holds it in this pass
            read_sources: dict[str, str] = {}  # source -> id it gave this pass
            for release, state in sorted(read, key=lambda item: item[0].source):
                other = claimed.get(release.id)
                row = existing.get(release.id)
                if (
                    other is None
                    and row is not None
                    and row.source != release.source
                    and row.source not in gone
                    and row.withdrawn_at is None
                ):
                    # Another file that is still there holds this id.
                    other = row.source
                if other is not None:
                    changes.duplicates.append((release.source, release.id, other))
                    continue
                claimed[release.id] = release.source
                read_sources[release.source] = release.id
                values = _release_values(release, state)
                if row is None:
                    published_local = release.published.astimezone(tz)
                    if not release.time_stated and now.astimezone(tz).date() == (
                        published_local.date()
                    ):
                        # A day without a time, arriving on that day: it went out now, not
                        # at items.default_time (issue 12: never dated before it became
                        # visible; same-day releases no longer share one made-up instant).
                        release = replace(release, published=now)
                        values["published"] = now
                    values.update(
                        updated=max(release.updated or release.published, release.published),
                        tag_date=published_local.date(),
                        seq=None,
                        withdrawn_at=None,
                    )
                    inserts.append(values)
                    changes.added.append(release.id)
                elif row.content_hash != release.content_hash or row.withdrawn_at is not None:
                    if row.seq is not None and release.publish_at is not None:
                        # Visible since its embargo lifted: an edit keeps it dated no
                        # earlier than that (as publish_due dated it).
                        values["published"] = max(release.published, release.publish_at)
                    elif row.seq is not None and not release.time_stated:
                        # Still a day without a time: an edit keeps the moment the store
                        # gave it on that day.
                        kept = row.published
                        if kept.astimezone(tz).date() == release.published.astimezone(tz).date():
                            values["published"] = kept
                    values.update(
                        updated=max(release.updated or now, values["published"]),
                        withdrawn_at=None,
                        b_id=release.id,
                    )
                    updates.append(values)
                    changes.updated.append(release.id)
                    if row.seq is not None:
                        changes.sections |= {row.section_slug, release.section_slug}
                        changes.seqs.add(row.seq)
                        # A withdrawn release whose file came back is news again.
                        back = row.withdrawn_at is not None
                        event = "release.published" if back else "release.updated"
                        changes.events.append((event, release.id))
                else:
                    touches.append(
                        {
                            "b_id": release.id,
                            "mtime_ns": state.mtime_ns,
                            "size": state.size,
                            "source": release.source,
                        }
                    )
            withdraw = sorted(
                {
                    row.id
                    for row in live_by_source
                    if row.id not in claimed and (row.source in gone or row.source in read_sources)
                }
            )
            rows_by_id = {row.id: row for row in live_by_source}
            if inserts:
                conn.execute(insert(releases), inserts)
                if len(inserts) >= _ANALYZE_AFTER and conn.dialect.name == "sqlite":
                    # Without statistics SQLite takes `withdrawn_at IS NULL` (true of nearly
                    # every row) for selective and scans the table for every feed query.
                    # PostgreSQL's autovacuum keeps its own statistics.
                    conn.exec_driver_sql("ANALYZE")
            if updates:
                conn.execute(
                    update(releases).where(cols.id == bindparam("b_id")),
                    [{k: v for k, v in u.items() if k != "id"} for u in updates],
                )
            if touches:
                conn.execute(update(releases).where(cols.id == bindparam("b_id")), touches)
            if withdraw:
                conn.execute(update(releases).where(cols.id.in_(withdraw)).values(withdrawn_at=now))
                changes.withdrawn.extend(withdraw)
                for rid in withdraw:
                    if rows_by_id[rid].seq is not None:
                        changes.sections.add(rows_by_id[rid].section_slug)
                        changes.seqs.add(rows_by_id[rid].seq)
                        changes.events.append(("release.withdrawn", rid))
            if publish:
                self._publish_due(conn, now, changes)
            self._announce(conn, changes, now)
        return changes

    def publish_due(self, now: dt.datetime) -> Changes:
        """Make visible every stored release whose embargo (if any) has passed."""
        changes = Changes()
        with self.engine.connect() as conn:  # most looks find nothing: no write lock then
            if conn.execute(_DUE.limit(1), {"now": now}).first() is None:
                return changes
        with writing(self.engine, RELEASES_LOCK) as conn:
            self._publish_due(conn, now, changes)
            self._announce(conn, changes, now)
        return changes

    def _announce(self, conn: Any, changes: Changes, now: dt.datetime) -> None:
        if not changes:
            return
        # The change log first: instances that do not scan replay it to stay current.
        logged = {
            "added": changes.added,
            "updated": changes.updated,
            "withdrawn": changes.withdrawn,
            "published": changes.published,
            "sections": sorted(changes.sections),
            "seqs": sorted(changes.seqs),
        }
        changes.generation = conn.execute(
            insert(site_changes)
            .values(at=now, changes=json.dumps(logged, ensure_ascii=False))
            .returning(site_changes.c.generation)
        ).scalar_one()
        if self.announce is None:
            return
        events = _release_events(conn, changes.events)
        changes.enqueued += enqueue(conn, self.announce(changes, events, now), now)

    def _publish_due(self, conn: Any, now: dt.datetime, changes: Changes) -> None:
        cols = releases.c
        query = select(
            cols.id, cols.section_slug, cols.published, cols.publish_at, cols.updated
        ).where(
            cols.seq.is_(None),
            cols.withdrawn_at.is_(None),
            or_(cols.publish_at.is_(None), cols.publish_at <= now),
        )
        # A release is never dated before it became visible (issue 12): one embargoed until
        # 10:21 whose dateline gives 09:00 is published at 10:21, and was not updated before.
        # Its tag date stays the one it was stored with: no one has seen its id yet, and an
        # id never changes once seen. A first import publishes everything here at once:
        # one small tuple a release (a section's slug shared; the new `updated` only when
        # its dates move), the rows read one by one, the parameters built a batch at a
        # time, and only `seq` set where nothing else changes (issue 12).
        slugs: dict[str, str] = {}
        dated = sorted(
            (at, rid, slugs.setdefault(slug, slug), _moved(published, at, updated))
            for rid, slug, published, publish_at, updated in conn.execute(query)
            for at in (max(published, publish_at or published),)
        )
        if not dated:
            return
        top = conn.execute(select(func.coalesce(func.max(cols.seq), 0))).scalar_one()
        by_id = update(releases).where(cols.id == bindparam("b_id"))
        for start in range(0, len(dated), 5000):  # bounded parameter lists
            numbered = enumerate(dated[start : start + 5000], start=top + start + 1)
            seq_only, redated = [], []
            for seq, (at, rid, _, updated) in numbered:
                if updated is None:
                    seq_only.append({"b_id": rid, "seq": seq})
                else:
                    redated.append({"b_id": rid, "seq": seq, "published": at, "updated": updated})
            for params in (seq_only, redated):
                if params:
                    conn.execute(by_id, params)
        if len(dated) >= _ANALYZE_AFTER and conn.dialect.name == "sqlite":
            # Statistics taken before this (when seq was NULL everywhere) would make `seq IS
            # NULL` look unselective, and every later publish_due scan the table.
            conn.exec_driver_sql("ANALYZE")
        changes.published.extend(rid for _, rid, _, _ in dated)
        changes.events.extend(("release.published", rid) for _, rid, _, _ in dated)
        changes.sections.update(slugs)
        changes.seqs.update(range(top + 1, top + len(dated) + 1))

    def changes_since(self, generation: int, limit: int = 1000) -> list[Changes]:
        """The logged changes after `generation`, oldest first."""
        c = site_changes.c
        query = (
            select(c.generation, c.changes)
            .where(c.generation > generation)
            .order_by(c.generation)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for number, text_ in rows:
            logged = json.loads(text_)
            out.append(
                Changes(
                    added=logged["added"],
                    updated=logged["updated"],
                    withdrawn=logged["withdrawn"],
                    published=logged["published"],
                    sections=set(logged["sections"]),
                    seqs=set(logged["seqs"]),
                    generation=number,
                )
            )
        return out

    def generation(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(site_changes.c.generation))).scalar()
        return int(value or 0)

    def forget_changes(self, before: dt.datetime) -> int:
        with writing(self.engine) as conn:
            return conn.execute(delete(site_changes).where(site_changes.c.at < before)).rowcount

    def next_embargo(self) -> dt.datetime | None:
        """When the next embargoed release falls due."""
        cols = releases.c
        query = select(func.min(cols.publish_at)).where(
            cols.seq.is_(None), cols.withdrawn_at.is_(None), cols.publish_at.is_not(None)
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else value.replace(tzinfo=dt.UTC)

    def scheduled(self) -> list[Scheduled]:
        """Every release still under embargo, the first to go live first."""
        cols = releases.c
        query = (
            select(cols.id, cols.title, cols.publish_at)
            .where(cols.seq.is_(None), cols.withdrawn_at.is_(None), cols.publish_at.is_not(None))
            .order_by(cols.publish_at, cols.id)
        )
        with self.engine.connect() as conn:
            return [Scheduled(*row) for row in conn.execute(query)]

    # -- reading for publication ------------------------------------------------------------

    def latest(self, limit: int, section_slug: str | None = None) -> list[StoredRelease]:
        """The newest visible releases, newest first."""
        cols = releases.c
        query = select(releases).where(_VISIBLE)
        if section_slug is not None:
            query = query.where(cols.section_slug == section_slug)
        query = query.order_by(cols.published.desc(), cols.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def newest_updated(self, section_slug: str, limit: int) -> dt.datetime | None:
        """The newest `updated` among a section's `limit` newest visible releases (what its
        page and feeds list), without reading the releases themselves."""
        cols = releases.c
        query = (
            select(cols.updated)
            .where(_VISIBLE, cols.section_slug == section_slug)
            .order_by(cols.published.desc(), cols.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return max(conn.execute(query).scalars(), default=None)

    def visible_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).where(_VISIBLE)).scalar_one()

    def max_seq(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.coalesce(func.max(releases.c.seq), 0))).scalar_one()

    def by_seq(self, first: int, last: int) -> list[StoredRelease]:
        """Visible releases with first <= seq <= last (one archive page), newest first."""
        cols = releases.c
        query = (
            select(releases)
            .where(_VISIBLE, cols.seq.between(first, last))
            .order_by(cols.published.desc(), cols.id.desc())
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def iter_visible(
        self, batch: int = 500, part: int = 0, parts: int = 1
    ) -> Iterator[StoredRelease]:
        """Every visible release (or one part of `parts`, for parallel work), newest first,
        without holding them all in memory."""
        cols = releases.c
        query = select(releases).where(_VISIBLE)
        if parts > 1:
            query = query.where(cols.seq % parts == part)
        query = query.order_by(cols.published.desc(), cols.id.desc())
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(query)
            for row in result:
                yield _stored(row)

    def listing(self, offset: int = 0, limit: int | None = None) -> list[ListedRelease]:
        """Visible releases as a list shows them, newest first (all, or one page)."""
        cols = releases.c
        query = (
            select(
                cols.id,
                cols.title,
                cols.section,
                cols.section_slug,
                cols.summary,
                cols.language,
                cols.published,
                cols.updated,
            )
            .where(_VISIBLE)
            .order_by(cols.published.desc(), cols.id.desc())
        )
        if limit is not None:
            query = query.offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [ListedRelease(*row) for row in conn.execute(query)]

    def sitemap_entries(self) -> list[tuple[str, dt.datetime]]:
        """(id, updated) of every visible release, newest first."""
        cols = releases.c
        query = (
            select(cols.id, cols.updated)
            .where(_VISIBLE)
            .order_by(cols.published.desc(), cols.id.desc())
        )
        with self.engine.connect() as conn:
            return [(rid, updated) for rid, updated in conn.execute(query)]

    def page_tokens(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """id -> a token that changes whenever the release's page would: for every visible
        release (or the given ones that are visible)."""
        cols = releases.c
        query = select(cols.id, cols.content_hash, cols.updated).where(_VISIBLE)
        with self.engine.connect() as conn:
            if ids is None:
                rows = list(conn.execute(query))
            else:
                rows = [
                    row
                    for chunk in _chunks(sorted(ids))
                    for row in conn.execute(query.where(cols.id.in_(chunk)))
                ]
        return {rid: f"{digest[:16]}.{updated.timestamp():.0f}" for rid, digest, updated in rows}

    def withdrawn_ids(self, ids: Iterable[str] | None = None) -> set[str]:
        """Ids of releases that were public and are withdrawn (their pages answer 410)."""
        cols = releases.c
        query = select(cols.id).where(cols.seq.is_not(None), cols.withdrawn_at.is_not(None))
        with self.engine.connect() as conn:
            if ids is None:
                return set(conn.execute(query).scalars())
            return {
                rid
                for chunk in _chunks(sorted(ids))
                for rid in conn.execute(query.where(cols.id.in_(chunk))).scalars()
            }

    def get(self, release_id: str) -> StoredRelease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(releases).where(releases.c.id == release_id)).first()
        return None if row is None else _stored(row)

    def get_many(self, ids: Iterable[str]) -> list[StoredRelease]:
        ids = list(ids)
        if not ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(releases).where(releases.c.id.in_(ids))).all()
        return [_stored(row) for row in rows]

    def sections(self, slugs: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(slug, name) of every section that ever had a published release, by slug: a
        section whose releases were all withdrawn keeps a (valid, empty) feed, so its
        subscribers see tombstones, not a 404. When releases spell a section differently,
        the most recent spelling names it."""
        cols = releases.c
        query = (
            select(cols.section_slug, cols.section, func.max(cols.published))
            .where(cols.seq.is_not(None))
            .group_by(cols.section_slug, cols.section)
            .order_by(cols.section_slug, func.max(cols.published))
        )
        if slugs is not None:
            query = query.where(cols.section_slug.in_(sorted(slugs)))
        names: dict[str, str] = {}
        with self.engine.connect() as conn:
            for slug, name, _ in conn.execute(query):
                names[slug] = name
        return sorted(names.items())

    def withdrawn_since(
        self, since: dt.datetime, section_slug: str | None = None
    ) -> list[StoredRelease]:
        """Releases that were public and were withdrawn after `since`: Atom tombstones."""
        cols = releases.c
        query = select(releases).where(
            cols.seq.is_not(None), cols.withdrawn_at.is_not(None), cols.withdrawn_at > since
        )
        if section_slug is not None:
            query = query.where(cols.section_slug == section_slug)
        query = query.order_by(cols.withdrawn_at.desc(), cols.id)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """IN lists of a size every database accepts."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _moved(published: dt.datetime, at: dt.datetime, updated: dt.datetime) -> dt.datetime | None:
    """A release published `at` (not before its `published`): its new `updated`, or None
    when neither date moves."""
    if at == published and updated >= at:
        return None
    return max(updated, at)


def _release_events(
    conn: Any, events: list[tuple[str, str]], size: int = 500
) -> Iterator[ReleaseEvent]:
    """The events of a change with their releases, in order, read `size` at a time while
    they are taken (in the change's transaction). An archive import publishes every
    release at once: holding them all, bodies and all, took ~10 KiB a release (issue 12)."""
    for start in range(0, len(events), size):
        part = events[start : start + size]
        ids = sorted({rid for _, rid in part})
        rows = {
            row.id: _stored(row)
            for row in conn.execute(select(releases).where(releases.c.id.in_(ids)))
        }
        for kind, rid in part:
            if rid in rows:
                yield ReleaseEvent(kind, rows[rid])


def _release_values(release: Release, state: FileState) -> dict[str, Any]:
    return {
        "id": release.id,
        "source": release.source,
        "mtime_ns": state.mtime_ns,
        "size": state.size,
        "content_hash": release.content_hash,
        "title": release.title,
        "section": release.section,
        "section_slug": release.section_slug,
        "language": release.language,
        "tags": json.dumps(list(release.tags), ensure_ascii=False),
        "author": release.author,
        "summary": release.summary,
        "body_html": release.body_html,
        "published": release.published,
        "updated_in_file": release.updated,
        "publish_at": release.publish_at,
    }


def _stored(row: Row[Any]) -> StoredRelease:
    m = row._mapping
    release = Release(
        id=m["id"],
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
    )
    return StoredRelease(
        release=release,
        seq=m["seq"],
        tag_date=m["tag_date"],
        updated=m["updated"],
        withdrawn_at=m["withdrawn_at"],
    )


def _private_database(path: Path) -> None:
    """The database holds names, addresses and messages: its folder (var/) is 0700 and the
    file 0600, made so before SQLite opens it, which gives its -wal and -shm the same mode
    (issue 11). Files a looser feedsvc left are tightened."""
    private_folder(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(path.with_name(path.name + suffix), create=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
