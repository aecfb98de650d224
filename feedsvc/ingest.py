"""Ingest: the items folder into the store. Bad files are reported and skipped; the
last good version of their release stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.model import ReadProblem
from feedsvc.reading import read_folder
from feedsvc.store import Changes, Store


@dataclass(frozen=True)
class IngestResult:
    changes: Changes
    problems: list[ReadProblem]
    files: int


def ingest(
    settings: Settings,
    store: Store,
    clock: Clock,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    folder = read_folder(settings, skip=store.file_states(), progress=progress)
    changes = store.sync(folder.releases, folder.present, clock.now(), settings.site.tz)
    problems = list(folder.problems)
    problems += [
        ReadProblem(path, 1, f"id {release_id!r} is already used by {other}")
        for path, release_id, other in changes.duplicates
    ]
    problems.sort(key=lambda p: (p.path, p.line))
    return IngestResult(changes, problems, len(folder.present))
