"""The releases manager: what a sync of the items folder writes, what publishing an
embargoed release writes, and the change log other instances replay. Its reads for
publication are ReleaseReads'."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from feedsvc.model import (
    Changes,
    FileState,
    Outgoing,
    Release,
    ReleaseEvent,
    Scheduled,
    scoped,
)
from feedsvc.store import facts, tags
from feedsvc.store.connector import RELEASES_LOCK, writing
from feedsvc.store.enqueue import enqueue
from feedsvc.store.plan import Known, SyncPlan, plan_sync
from feedsvc.store.release_reads import (
    STORED,
    ReleaseReads,
    in_chunks,
    media_refs,
    rows_where_in,
    stored_release,
)
from feedsvc.store.schema import releases, site_changes
from feedsvc.store.search import index_published, pause_search, searchable
from feedsvc.store.tags import write_tags

__all__ = ["Announce", "Releases"]

_ANALYZE_AFTER = 100  # rows inserted or published at once
_DUE = select(releases.c.id).where(
    releases.c.seq.is_(None),
    releases.c.withdrawn_at.is_(None),
    or_(releases.c.publish_at.is_(None), releases.c.publish_at <= bindparam("now")),
)
_KNOWN = (
    releases.c.id,
    releases.c.source,
    releases.c.content_hash,
    releases.c.withdrawn_at,
    releases.c.seq,
    releases.c.section_slug,
    releases.c.published,
)


# Turns a change into the messages that announce it (webhooks, hub pings): called inside
# the transaction that makes the change, so the change and its messages commit together.
# The events are read from the store as they are taken, a chunk at a time, and only then:
# take them (and give back the messages) one at a time, within the call.
Announce = Callable[[Changes, Iterable[ReleaseEvent], dt.datetime], Iterable[Outgoing]]
# Issue 16: queues the email alerts of a change, set-based, in the change's transaction
# (store/alerts.AlertStore.fan_out); how many were queued.
FanOut = Callable[[Connection, Changes, dt.datetime], int]


class Releases(ReleaseReads):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.announce: Announce | None = None
        self.fan_out: FanOut | None = None

    def file_states(self, sources: Iterable[str] | None = None) -> dict[str, FileState]:
        """The state of each live release's file (or of the given ones) when last read;
        combined with its files' for a release that names files (FileState)."""
        cols = releases.c
        query = select(cols.source, cols.mtime_ns, cols.size, cols.media_state).where(
            cols.withdrawn_at.is_(None)
        )
        with self.engine.connect() as conn:
            rows = rows_where_in(conn, query, cols.source, sources)
        return {src: FileState(m, s, f or "") for src, m, s, f in rows}

    def media_sources(self, sources: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
        """release file -> the files it names (paths relative to items/), for each live
        release that names files (or the given ones): what a scan stats to see a replaced
        photo. Releases without files are not returned, so they cost nothing here."""
        cols = releases.c
        query = select(cols.source, cols.media).where(
            cols.withdrawn_at.is_(None), cols.media.is_not(None)
        )
        with self.engine.connect() as conn:
            rows = rows_where_in(conn, query, cols.source, sources)
        return {src: tuple(ref.source for ref in media_refs(text)) for src, text in rows}

    def fact(self, name: str) -> str | None:
        """A fact about the store as a whole (store_facts), or None."""
        with self.engine.connect() as conn:
            return facts.fact(conn, name)

    def set_fact(self, name: str, value: str) -> None:
        with writing(self.engine) as conn:
            facts.set_fact(conn, name, value)

    def sync(
        self,
        read: Iterable[tuple[Release, FileState]],
        gone: Iterable[str],
        now: dt.datetime,
        tz: dt.tzinfo,
        publish: bool = True,
        search_texts: Mapping[str, str] | None = None,
    ) -> Changes:
        """Bring the store in line with the files: insert new releases, update edited ones,
        withdraw those whose file is `gone`. Files that are present but unreadable (bad)
        are simply not in `read`: their last good release stays as it was. Only the rows
        that `read` and `gone` name are looked at, so the cost follows the change.
        `search_texts` are the search texts already made of these releases, by file."""
        read = sorted(read, key=lambda item: item[0].source)
        gone = set(gone)
        if not read and not gone:
            # An idle scan: no write lock for nothing (another writer may want it).
            return self.publish_due(now) if publish else Changes()
        with writing(self.engine, RELEASES_LOCK) as conn:
            known, live = _known(conn, read, gone)
            plan = plan_sync(known, live, read, gone, now, tz, _tag_dates(conn, read, known))
            _execute(conn, plan, now, search_texts)
            if publish:
                self._publish_due(conn, now, plan.changes)
            self._announce(conn, plan.changes, now)
        return plan.changes

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

    def _announce(self, conn: Connection, changes: Changes, now: dt.datetime) -> None:
        if not changes:
            return
        # The change log first: instances that do not scan replay it to stay current.
        logged = {
            "added": changes.added,
            "updated": changes.updated,
            "withdrawn": changes.withdrawn,
            "published": changes.published,
            "sections": sorted(changes.sections),
            "tags": sorted(changes.tags),
            "seqs": sorted([scope or "", seq] for scope, seq in changes.seqs),
        }
        changes.generation = conn.execute(
            insert(site_changes)
            .values(at=now, changes=json.dumps(logged, ensure_ascii=False))
            .returning(site_changes.c.generation)
        ).scalar_one()
        if self.fan_out is not None:
            changes.enqueued += self.fan_out(conn, changes, now)
        if self.announce is None:
            return
        events = _release_events(conn, changes.events)
        changes.enqueued += enqueue(conn, self.announce(changes, events, now), now)

    def _publish_due(self, conn: Connection, now: dt.datetime, changes: Changes) -> None:
        cols = releases.c
        query = select(
            cols.id, cols.scope, cols.section_slug, cols.published, cols.publish_at, cols.updated
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
        # time, and only `seq` set where nothing else changes (issue 12). Each language
        # counts its own seq (issue 15): its archive pages are its own.
        slugs: dict[str, str] = {}
        dated = sorted(
            (at, key, scope, slugs.setdefault(slug, slug), _moved(published, at, updated))
            for key, scope, slug, published, publish_at, updated in conn.execute(query)
            for at in (max(published, publish_at or published),)
        )
        if not dated:
            return
        # Each language's last seq, one look each at the end of its index (issue 18: grouped
        # by scope, the same read every release's row, ~1 ms of each release added).
        last = select(func.max(cols.seq)).where(cols.scope == bindparam("b_scope"))
        tops = {
            scope: conn.execute(last, {"b_scope": scope}).scalar_one() or 0
            for scope in sorted({scope for _, _, scope, _, _ in dated})
        }
        by_key = update(releases).where(cols.id == bindparam("b_id"))
        bulk = pause_search(conn, len(dated))
        after = dict(tops)  # each scope's last seq before this publish
        for start in range(0, len(dated), 5000):  # bounded parameter lists
            seq_only, redated = [], []
            for at, key, scope, slug, updated in dated[start : start + 5000]:
                seq = tops[scope] = tops.get(scope, 0) + 1
                changes.seqs.add((scope or None, seq))
                changes.sections.add(scoped(slug, scope or None))
                if updated is None:
                    seq_only.append({"b_id": key, "seq": seq})
                else:
                    redated.append({"b_id": key, "seq": seq, "published": at, "updated": updated})
            for params in (seq_only, redated):
                if params:
                    conn.execute(by_key, params)
        if bulk:
            index_published(conn, after, {scope for _, _, scope, _, _ in dated})
        if len(dated) >= _ANALYZE_AFTER and conn.dialect.name == "sqlite":
            # Statistics taken before this (when seq was NULL everywhere) would make `seq IS
            # NULL` look unselective, and every later publish_due scan the table.
            conn.exec_driver_sql("ANALYZE")
        changes.published.extend(key for _, key, _, _, _ in dated)
        tags.noted(conn, changes.published, changes)
        changes.events.extend(("release.published", key) for _, key, _, _, _ in dated)

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
                    tags=set(logged.get("tags", ())),  # logged before issue 17: none
                    seqs={_position(p) for p in logged["seqs"]},
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


def _known(
    conn: Connection, read: Sequence[tuple[Release, FileState]], gone: set[str]
) -> tuple[dict[str, Known], list[Known]]:
    """The stored rows of the keys read, and the live rows of the files read and gone
    (their key may have changed)."""
    cols = releases.c
    by_id = {
        row.id: Known(*row)
        for chunk in in_chunks([r.key for r, _ in read])
        for row in conn.execute(select(*_KNOWN).where(cols.id.in_(chunk)))
    }
    live = [
        Known(*row)
        for chunk in in_chunks([r.source for r, _ in read] + sorted(gone))
        for row in conn.execute(
            select(*_KNOWN).where(cols.source.in_(chunk), cols.withdrawn_at.is_(None))
        )
    ]
    return by_id, live


def _tag_dates(
    conn: Connection, read: Sequence[tuple[Release, FileState]], known: Mapping[str, Known]
) -> dict[str, dt.date]:
    """release id -> the tag date of its stored translations, for the new rows read (issue
    15: a translation shares its release's tag URI date)."""
    cols = releases.c
    new = sorted({r.id for r, _ in read if r.key not in known})
    return {
        rid: day
        for chunk in in_chunks(new)
        for rid, day in conn.execute(
            select(cols.release_id, func.min(cols.tag_date))
            .where(cols.release_id.in_(chunk))
            .group_by(cols.release_id)
        )
    }


def _position(logged: object) -> tuple[str | None, int]:
    """An archive position of the change log: [scope, seq] (issue 15), or a bare seq of the
    site's own language as logged before."""
    if isinstance(logged, list):
        scope, seq = logged
        return (scope or None, int(seq))
    return (None, int(logged))  # type: ignore[call-overload]


def _execute(
    conn: Connection, plan: SyncPlan, now: dt.datetime, search_texts: Mapping[str, str] | None
) -> None:
    cols = releases.c
    if plan.added:
        for rows in searchable(plan.added, search_texts):
            conn.execute(insert(releases), rows)
        if len(plan.added) >= _ANALYZE_AFTER and conn.dialect.name == "sqlite":
            # Without statistics SQLite takes `withdrawn_at IS NULL` (true of nearly
            # every row) for selective and scans the table for every feed query.
            # PostgreSQL's autovacuum keeps its own statistics.
            conn.exec_driver_sql("ANALYZE")
    by_id = update(releases).where(cols.id == bindparam("b_id"))
    for rows in searchable(plan.edited, search_texts):
        conn.execute(by_id, [{k: v for k, v in u.items() if k != "id"} for u in rows])
    # One executemany per set of keys: only releases with files note a media_state.
    for with_media in (False, True):
        if noted := [u for u in plan.unchanged if ("media_state" in u) is with_media]:
            conn.execute(by_id, noted)
    if plan.withdrawn:
        conn.execute(update(releases).where(cols.id.in_(plan.withdrawn)).values(withdrawn_at=now))
    write_tags(conn, plan.added, plan.edited, plan.withdrawn, plan.changes)


def _moved(published: dt.datetime, at: dt.datetime, updated: dt.datetime) -> dt.datetime | None:
    """A release published `at` (not before its `published`): its new `updated`, or None
    when neither date moves."""
    if at == published and updated >= at:
        return None
    return max(updated, at)


def _release_events(
    conn: Connection, events: list[tuple[str, str]], size: int = 500
) -> Iterator[ReleaseEvent]:
    """The events of a change with their releases, in order, read `size` at a time while
    they are taken (in the change's transaction). An archive import publishes every
    release at once: holding them all, bodies and all, took ~10 KiB a release (issue 12)."""
    for start in range(0, len(events), size):
        part = events[start : start + size]
        ids = sorted({rid for _, rid in part})
        rows = {
            row.id: stored_release(row)
            for row in conn.execute(select(*STORED).where(releases.c.id.in_(ids)))
        }
        for kind, rid in part:
            if rid in rows:
                yield ReleaseEvent(kind, rows[rid])
