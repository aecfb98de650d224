"""The live service's view of the items folder, one look at a time.

A look compares the folder with what is stored and ingests what changed — but only files
that have settled: older than items.settle_seconds, or unchanged since the previous look.
A file still being written (an editor, scp) waits for the next look, which the caller
schedules settle_seconds later. A bad file is reported once per change of the file.

A release that names files (issue 14) is compared by its combined state (its text's and
its files', reading/file_states.py): the scanner keeps which files each release named when
last read (from the store at first, then from each read, bad reads too, so a missing photo
copied in is seen) and stats those, one stat a file; a release without files costs what it
did. A read whose files changed within settle_seconds is a file still being copied: a
bad one waits for the next look instead of being reported, a good one is not stored yet
(`hold`: a video still being copied beside a new release must not go out cut).

Issue 18: a look told which files changed (the file watcher's events) looks at those, the
files still settling and the releases that name them, one stat each, instead of listing the
folder: a change to one release in 10,000 took the serving process ~100 ms of listing,
with the GIL, which every reader waited for. Anything that is not a release at the top of
the folder or a file a known release names (a folder, a bundle's file, a stray file) makes
it a look at the whole folder, as does every look the caller does not narrow.

The scanner decides which files are ready; what reading and storing them takes (the whole
Settings, for ingest) is the caller's `ingest` (issue 13: it gets its `items` section).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from feedsvc.config import ItemsSettings
from feedsvc.ingest import IngestResult
from feedsvc.model import Changes, FileState, ReadProblem
from feedsvc.reading import file_at, is_release_name, release_files
from feedsvc.reading.file_states import combined
from feedsvc.store import Store

# (files ready to read, files gone, how many files there are) -> what storing them did
# (ready files, gone files, files present, hold=) -> what was stored (ingest.store_files)
Ingest = Callable[..., IngestResult]


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
        self.sources: dict[str, tuple[str, ...]] = {}  # release file -> the files it names
        self.pending: dict[str, FileState] = {}  # changed at the last look, not yet read
        self.bad: dict[str, tuple[FileState, list[ReadProblem]]] = {}

    def look(self, changed: Collection[str] | None = None) -> Look:
        """Compare the folder with the store and ingest what is ready. `changed`: the files
        (relative to items/) seen to change since the last look; None: any may have."""
        if self.known is None:
            self.known = self.store.releases.file_states()
            self.sources = self.store.releases.media_sources()
            changed = None
        looking = None if changed is None else self._around(changed)
        if looking is None:
            files = release_files(self.items.dir)
        else:
            files = [found for rel in sorted(looking) if (found := file_at(self.items.dir, rel))]
        present = {rel for rel, _, _ in files}
        now_ns = int(self.wall_time() * 1e9)
        ready, waiting, looked = [], {}, {}
        sources = self.sources
        for rel, path, text in files:
            # Only a release that names files costs more than its listing: a stat a file.
            state = combined(self.items.dir, text, sources[rel]) if rel in sources else text
            if self.known.get(rel) == state:
                continue
            bad = self.bad.get(rel)
            if bad is not None and bad[0] == state:
                continue  # still the same bad file: reported already
            if self._settled(state, now_ns) or self.pending.get(rel) == state:
                ready.append((rel, path, text))
                looked[rel] = (text, state)
            else:
                waiting[rel] = state
        self.bad = {
            rel: bad
            for rel, bad in self.bad.items()
            if rel in present or (looking is not None and rel not in looking)
        }
        known = self.known
        gone = {rel for rel in (known if looking is None else looking) if rel not in present}
        gone &= known.keys()
        # Release files there now; a narrowed look counts from what it looked at only.
        count = len(files)
        if looking is not None:
            count = len(known) - len(gone) + sum(rel not in known for rel in present)
        result = self.ingest(
            ready, gone, count, hold=lambda seen: not self._settled_at(seen.newest_ns, now_ns)
        )
        new_problems = self._note(self.known, result, looked, waiting, now_ns)
        self.pending = waiting
        for rel in gone:
            self.known.pop(rel, None)
        if looking is None:
            self.sources = {rel: named for rel, named in self.sources.items() if rel in present}
        else:
            for rel in looking - present:
                self.sources.pop(rel, None)
        return Look(result, new_problems, len(waiting))

    def _folder_or_was(self, rel: str) -> bool:
        """`rel` (at the top of the folder) is a folder, or was one that held releases."""
        assert self.known is not None
        inside = rel + "/"
        return os.path.isdir(self.items.dir / rel) or any(k.startswith(inside) for k in self.known)

    def _around(self, changed: Collection[str]) -> set[str] | None:
        """The release files to look at for `changed`: those at the top of the folder, the
        releases that name the others, and the files still settling; None when that cannot
        be told from the names alone (a folder, a file below one that no release names)."""
        looking = set(self.pending)
        owners: dict[str, list[str]] | None = None
        for rel in changed:
            if "/" not in rel and is_release_name(rel):
                looking.add(rel)
                continue
            if owners is None:
                owners = {}
                for release, named in self.sources.items():
                    for source in named:
                        owners.setdefault(source, []).append(release)
            if rel in owners:
                looking.update(owners[rel])
            elif "/" in rel or self._folder_or_was(rel):
                return None
            # else a file at the top that is no release and that no release names (an
            # editor's backup, a photo for a release still to come): nothing to look at
        if any("/" in rel or os.path.isdir(self.items.dir / rel) for rel in looking):
            return None  # bundles (and a folder named like a release) are listed
        return looking

    def _settled(self, state: FileState, now_ns: int) -> bool:
        return self._settled_at(state.mtime_ns, now_ns)

    def _settled_at(self, changed_ns: int, now_ns: int) -> bool:
        return now_ns - changed_ns >= int(self.items.settle_seconds * 1e9)

    def _note(
        self,
        known: dict[str, FileState],
        result: IngestResult,
        looked: dict[str, tuple[FileState, FileState]],  # rel -> (text state, combined)
        waiting: dict[str, FileState],
        now_ns: int,
    ) -> list[ReadProblem]:
        """Remember what the files read were found to be; return the problems to report."""
        for rel, seen in result.media.items():
            self.sources[rel] = seen.sources
        for rel, seen in result.held.items():
            if rel in looked:
                waiting[rel] = seen.state(looked[rel][0])  # a file it names is being written
        by_file: dict[str, list[ReadProblem]] = {}
        for problem in result.problems:
            by_file.setdefault(problem.path, []).append(problem)
        new_problems = []
        for rel, problems in by_file.items():
            if rel not in looked:
                continue
            text, state = looked[rel]
            if (seen := result.media.get(rel)) is not None:
                state = seen.state(text)  # as the files were when read
                if not self._settled(state, now_ns):
                    waiting[rel] = state  # a file it names is still being written
                    continue
            self.bad[rel] = (state, problems)
            new_problems += problems
        for rel, state in result.stored.items():
            known[rel] = state
            self.bad.pop(rel, None)
            if rel not in result.media:
                self.sources.pop(rel, None)
        return new_problems

    @property
    def problems(self) -> list[ReadProblem]:
        """Every file that is bad right now."""
        return [p for _, problems in self.bad.values() for p in problems]
