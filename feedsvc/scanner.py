"""The live service's view of the items folder, one look at a time.

A look compares the folder with what is stored and ingests what changed — but only files
that have settled: older than items.settle_seconds, or unchanged since the previous look.
A file still being written (an editor, scp) waits for the next look, which the caller
schedules settle_seconds later. A bad file is reported once per change of the file.

The scanner decides which files are ready; what reading and storing them takes (the whole
Settings, for ingest) is the caller's `ingest` (issue 13: it gets its `items` section).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from feedsvc.config import ItemsSettings
from feedsvc.ingest import IngestResult
from feedsvc.model import Changes, FileState, ReadProblem
from feedsvc.reading import release_files
from feedsvc.store import Store

# (files ready to read, files gone, how many files there are) -> what storing them did
Ingest = Callable[[list[tuple[str, str, FileState]], set[str], int], IngestResult]


@dataclass
class Look:
    result: IngestResult
    new_problems: list[ReadProblem] = field(default_factory=list)  # not reported before
    unsettled: int = 0  # files waiting for the next look

    @property
    def changes(self) -> Changes:
        return self.result.changes


class Scanner:
    def __init__(
        self,
        items: ItemsSettings,
        store: Store,
        ingest: Ingest,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self.items = items
        self.store = store
        self.ingest = ingest
        # File modification times come from the file system's clock, not the service's.
        self.wall_time = wall_time
        self.known: dict[str, FileState] | None = None  # as stored; loaded on first look
        self.pending: dict[str, FileState] = {}  # changed at the last look, not yet read
        self.bad: dict[str, tuple[FileState, list[ReadProblem]]] = {}

    def look(self) -> Look:
        if self.known is None:
            self.known = self.store.releases.file_states()
        files = release_files(self.items.dir)
        present = {rel for rel, _, _ in files}
        settle_ns = int(self.items.settle_seconds * 1e9)
        now_ns = int(self.wall_time() * 1e9)
        ready, waiting = [], {}
        for rel, path, state in files:
            if self.known.get(rel) == state:
                continue
            bad = self.bad.get(rel)
            if bad is not None and bad[0] == state:
                continue  # still the same bad file: reported already
            if now_ns - state.mtime_ns >= settle_ns or self.pending.get(rel) == state:
                ready.append((rel, path, state))
            else:
                waiting[rel] = state
        self.pending = waiting
        self.bad = {rel: entry for rel, entry in self.bad.items() if rel in present}
        gone = {rel for rel in self.known if rel not in present}
        result = self.ingest(ready, gone, len(files))
        new_problems = []
        by_file: dict[str, list[ReadProblem]] = {}
        for problem in result.problems:
            by_file.setdefault(problem.path, []).append(problem)
        states = {rel: state for rel, _, state in ready}
        for rel, problems in by_file.items():
            if rel in states:
                self.bad[rel] = (states[rel], problems)
                new_problems += problems
        for rel, state in result.stored.items():
            self.known[rel] = state
            self.bad.pop(rel, None)
        for rel in gone:
            self.known.pop(rel, None)
        return Look(result, new_problems, len(waiting))

    @property
    def problems(self) -> list[ReadProblem]:
        """Every file that is bad right now."""
        return [p for _, problems in self.bad.values() for p in problems]
