"""What a build can take from the previous export (issue 18 item 2): the keys of every
group of documents as the store is now (doc_keys.py), and the groups whose files were
hard-linked from the previous export because their key did not move (manifest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.publishing import manifest
from feedsvc.publishing.doc_keys import document_keys, release_of
from feedsvc.publishing.fingerprint import build_fingerprint
from feedsvc.store import open_store

# Up to this many release pages to render, they are read one by one in the build's own
# process; more, and every visible release streams through a pool of processes.
FEW_RELEASES = 200


@dataclass(frozen=True)
class Plan:
    keys: dict[str, str]  # group -> key, as the store is now
    reused: dict[str, manifest.Entry]  # groups linked from the previous export
    releases: list[str] | None  # keys of the release pages to render, when few

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
    settings: Settings, clock: Clock, out: Path, staging: Path, where: Path | None
) -> Plan:
    """Link what did not change from the export at `out` into `staging`; what is left."""
    if where is None:
        return Plan({}, {}, None)
    previous = manifest.load(where, out)
    cutoff = clock.now() - dt.timedelta(days=settings.feeds.tombstone_days)
    with open_store(settings, upgrade=False) as store:
        keys = document_keys(
            store.releases.engine,
            build_fingerprint(settings),
            archive_page_size=settings.feeds.archive_page_size,
            per_page=settings.pages.per_page,
            tombstone_cutoff=cutoff,
        )
    if previous is None:
        return Plan(keys, {}, None)
    reused = manifest.link_unchanged(previous, keys, out, staging)
    stale = [key for group in keys if group not in reused and (key := release_of(group))]
    return Plan(keys, reused, stale if len(stale) <= FEW_RELEASES else None)
