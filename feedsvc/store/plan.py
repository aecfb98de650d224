"""What a sync decides, without a database: which releases are added, edited, left as
they were (only their file's state noted) or withdrawn, and which files are refused for
giving an id another file holds. The releases manager reads the rows, asks `plan_sync`,
and executes the plan in one transaction (issue 13: deciding apart from SQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from feedsvc.model import Changes, FileState, MediaRef, Release, scoped, unscoped

__all__ = ["Known", "SyncPlan", "media_json", "plan_sync", "release_values"]


@dataclass(frozen=True)
class Known:
    """What a sync needs of a stored release."""

    id: str  # its key: model.scoped(release id, language) (issue 15)
    source: str
    content_hash: str
    withdrawn_at: dt.datetime | None
    seq: int | None  # None until it became visible
    section_slug: str
    published: dt.datetime


@dataclass
class SyncPlan:
    """Row values for each statement, and the change they make, in the order made."""

    added: list[dict[str, Any]] = field(default_factory=list)  # new rows
    edited: list[dict[str, Any]] = field(default_factory=list)  # content changed, or came back
    unchanged: list[dict[str, Any]] = field(default_factory=list)  # only the file state noted
    withdrawn: list[str] = field(default_factory=list)  # keys whose file is gone or renamed
    changes: Changes = field(default_factory=Changes)


def plan_sync(
    known: Mapping[str, Known],
    live: Sequence[Known],
    read: Iterable[tuple[Release, FileState]],
    gone: set[str],
    now: dt.datetime,
    tz: dt.tzinfo,
    tag_dates: Mapping[str, dt.date] | None = None,
) -> SyncPlan:
    """`known`: the stored rows of the keys read; `live`: the live rows of the files read
    and gone (a file's key may have changed). Files present but unreadable are in neither
    `read` nor `gone`: their last good release stays as it was. `tag_dates`: release id ->
    the tag date its stored translations have (issue 15: a translation shares it)."""
    plan = SyncPlan()
    changes = plan.changes
    claimed: dict[str, str] = {}  # key -> source that holds it in this pass
    read_sources: set[str] = set()
    for release, state in sorted(read, key=lambda item: item[0].source):
        key = release.key
        row = known.get(key)
        other = claimed.get(key) or _held_elsewhere(row, release, gone)
        if other is not None:
            changes.duplicates.append((release.source, key, other))
            continue
        claimed[key] = release.source
        read_sources.add(release.source)
        if row is None:
            plan.added.append(_added(release, state, now, tz, (tag_dates or {}).get(release.id)))
            changes.added.append(key)
        elif row.content_hash != release.content_hash or row.withdrawn_at is not None:
            plan.edited.append(_edited(row, release, state, now, tz))
            changes.updated.append(key)
            if row.seq is not None:
                scope = unscoped(key)[1]
                changes.sections |= {
                    scoped(row.section_slug, scope),
                    scoped(release.section_slug, scope),
                }
                changes.seqs.add((scope, row.seq))
                # A withdrawn release whose file came back is news again.
                back = row.withdrawn_at is not None
                changes.events.append(("release.published" if back else "release.updated", key))
        else:
            noted = {"b_id": key, "mtime_ns": state.mtime_ns, "size": state.size}
            if state.media:
                noted["media_state"] = state.media  # its files were copied over, same bytes
            plan.unchanged.append(noted | {"source": release.source})
    _withdraw(plan, live, claimed, gone | read_sources)
    return plan


def _held_elsewhere(row: Known | None, release: Release, gone: set[str]) -> str | None:
    """The source of another file, still there, that holds this release's key."""
    if row is None or row.source == release.source or row.source in gone:
        return None
    return row.source if row.withdrawn_at is None else None


def _added(
    release: Release,
    state: FileState,
    now: dt.datetime,
    tz: dt.tzinfo,
    tag_date: dt.date | None = None,
) -> dict[str, Any]:
    values = release_values(release, state)
    published_local = release.published.astimezone(tz)
    if not release.time_stated and now.astimezone(tz).date() == published_local.date():
        # A day without a time, arriving on that day: it went out now, not at
        # items.default_time (issue 12: never dated before it became visible; same-day
        # releases no longer share one made-up instant).
        release = replace(release, published=now)
        values["published"] = now
    values.update(
        updated=max(release.updated or release.published, release.published),
        tag_date=tag_date or published_local.date(),
        seq=None,
        withdrawn_at=None,
    )
    return values


def _edited(
    row: Known, release: Release, state: FileState, now: dt.datetime, tz: dt.tzinfo
) -> dict[str, Any]:
    values = release_values(release, state)
    if row.seq is not None and release.publish_at is not None:
        # Visible since its embargo lifted: an edit keeps it dated no earlier than that
        # (as publish_due dated it).
        values["published"] = max(release.published, release.publish_at)
    elif row.seq is not None and not release.time_stated:
        # Still a day without a time: an edit keeps the moment the store gave it on
        # that day.
        kept = row.published
        if kept.astimezone(tz).date() == release.published.astimezone(tz).date():
            values["published"] = kept
    values.update(
        updated=max(release.updated or now, values["published"]),
        withdrawn_at=None,
        b_id=release.key,
    )
    return values


def _withdraw(
    plan: SyncPlan, live: Sequence[Known], claimed: Mapping[str, str], looked: set[str]
) -> None:
    """Live releases of the files looked at (read or gone) that no file claims any more
    (by key: a file whose language changed withdraws its old translation)."""
    rows = {row.id: row for row in live}
    plan.withdrawn = sorted(
        {row.id for row in live if row.id not in claimed and row.source in looked}
    )
    changes = plan.changes
    changes.withdrawn.extend(plan.withdrawn)
    for key in plan.withdrawn:
        if (seq := rows[key].seq) is not None:
            scope = unscoped(key)[1]
            changes.sections.add(scoped(rows[key].section_slug, scope))
            changes.seqs.add((scope, seq))
            changes.events.append(("release.withdrawn", key))


def release_values(release: Release, state: FileState) -> dict[str, Any]:
    return {
        "id": release.key,
        "release_id": release.id,
        "scope": unscoped(release.key)[1] or "",
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
        "media": media_json(release.media),
        "media_state": state.media or None,
        "change_note": release.change_note,
        "contact": release.contact,
        "notes_to_editors": (
            json.dumps(list(release.notes_to_editors), ensure_ascii=False)
            if release.notes_to_editors
            else None
        ),
    }


def media_json(media: Sequence[MediaRef]) -> str | None:
    """The stored form of a release's files: canonical JSON (sorted keys, no spaces), so
    the same files are the same text on every instance; None for a release without."""
    if not media:
        return None
    return json.dumps(
        [asdict(ref) for ref in media], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
