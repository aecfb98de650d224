"""What a build can take from earlier exports (issue 18 item 2): the keys of every group of
documents as the store is now (doc_keys.py), and the groups whose key did not move: kept
in the spare the build updates in place (spare.py), else hard-linked from the current
export (manifest.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.publishing import manifest
from feedsvc.publishing.doc_keys import document_keys, release_of
from feedsvc.publishing.fingerprint import build_fingerprint
from feedsvc.publishing.spare import Listing, bring_up_to_date
from feedsvc.store import open_store
from feedsvc.store.build_reads import PublishedRow, published_rows

# Up to this many release pages to render, they are read one by one in the build's own
# process; more, and every visible release streams through a pool of processes.
FEW_RELEASES = 200


@dataclass(frozen=True)
class Plan:
    keys: dict[str, str]  # group -> key, as the store is now
    reused: dict[str, manifest.Entry]  # groups kept in the spare or linked from the export
    releases: list[str] | None  # keys of the release pages to render, when few
    placed: dict[str, int] = field(default_factory=dict)  # releases' files kept: size
    rows: list[PublishedRow] | None = None  # what the keys were made from

    @property
    def skip(self) -> frozenset[str]:
        return frozenset(self.reused)

    @property
    def linked(self) -> int:
        return sum(len(files) for _, files in self.reused.values())

    @property
    def few(self) -> bool:
        return self.releases is not None


def plan_build(
    settings: Settings,
    clock: Clock,
    out: Path,
    staging: Path,
    where: Path | None,
    spare: manifest.Manifest | None = None,
    media: Sequence[tuple[str, Path]] = (),
    listing: Listing | None = None,
) -> Plan:
    """Bring `staging` up to date with what did not change: the groups of the `spare` it
    holds kept, others linked from the export at `out`; what is left to render."""
    if where is None:
        return Plan({}, {}, None)
    if spare is None:
        listing = None
    elif listing is None:
        listing = Listing(staging)  # runs while keys are read
    try:
        keys, rows = _keys(settings, clock)
    except BaseException:
        if listing is not None:
            listing.close()  # a failed build leaves no `find` running
        raise
    reused: dict[str, manifest.Entry] = {}
    placed: dict[str, int] = {}
    if spare is not None and listing is not None:
        reused, placed = bring_up_to_date(staging, listing, spare, keys, media)
    previous = manifest.load(where, out)
    if previous is not None:
        rest = manifest.Manifest(
            previous.folder, {g: e for g, e in previous.groups.items() if g not in reused}
        )
        reused |= manifest.link_unchanged(rest, keys, out, staging)
    stale = [key for group in keys if group not in reused and (key := release_of(group))]
    few = stale if len(stale) <= FEW_RELEASES else None
    return Plan(keys, reused, few, placed, rows)


def _keys(settings: Settings, clock: Clock) -> tuple[dict[str, str], list[PublishedRow]]:
    cutoff = clock.now() - dt.timedelta(days=settings.feeds.tombstone_days)
    with open_store(settings, upgrade=False) as store:
        read = published_rows(store.releases.engine)
        keys = document_keys(
            store.releases.engine,
            build_fingerprint(settings),
            archive_page_size=settings.feeds.archive_page_size,
            per_page=settings.pages.per_page,
            tombstone_cutoff=cutoff,
            feed_limit=settings.feeds.limit,
            read=read,
        )
        return keys, read[0]
