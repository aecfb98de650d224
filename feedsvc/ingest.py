"""Ingest: release files into the store. Bad files are reported and skipped; the last
good version of their release stays as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.model import ReadProblem
from feedsvc.reading import FolderRead, file_at, read_files, read_folder
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
    """Scan the whole items folder (files whose size and mtime are unchanged are not read)."""
    known = store.file_states()
    folder = read_folder(settings, skip=known, progress=progress)
    return _sync(settings, store, clock, folder, gone=set(known) - folder.present)


def ingest_files(
    settings: Settings, store: Store, clock: Clock, rel_paths: Iterable[str]
) -> IngestResult:
    """Ingest only the named files (relative to the items folder), as a file-system watcher
    reports them: a file that is there is read, one that is not is withdrawn. The cost
    follows the change, not the size of the folder."""
    rel_paths = sorted(set(rel_paths))
    known = store.file_states(rel_paths)
    files = [found for rel in rel_paths if (found := file_at(settings.items.dir, rel))]
    folder = read_files(settings, files, skip=known)
    return _sync(settings, store, clock, folder, gone=set(known) - folder.present)


def _sync(
    settings: Settings, store: Store, clock: Clock, folder: FolderRead, gone: set[str]
) -> IngestResult:
    changes = store.sync(folder.releases, gone, clock.now(), settings.site.tz)
    problems = list(folder.problems)
    problems += [
        ReadProblem(path, 1, f"id {release_id!r} is already used by {other}")
        for path, release_id, other in changes.duplicates
    ]
    problems.sort(key=lambda p: (p.path, p.line))
    return IngestResult(changes, problems, len(folder.present))
