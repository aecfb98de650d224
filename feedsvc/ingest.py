"""Ingest: release files into the store. Bad files are reported and skipped; the last
good version of their release stays as it was."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import posixpath
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.model import Changes, FileState, ReadProblem
from feedsvc.reading import (
    FolderRead,
    file_at,
    read_files,
    read_indexed,
    reading_languages,
    release_files,
)
from feedsvc.reading.file_states import MediaSeen, with_media
from feedsvc.reading.listing import INDEX_NAMES, bundle_indexes, is_release_name
from feedsvc.store import Store
from feedsvc.workers import start_worker


@dataclass(frozen=True)
class IngestResult:
    changes: Changes
    problems: list[ReadProblem]
    files: int  # release files present
    stored: dict[str, FileState] = field(default_factory=dict)  # files read and stored
    # release files read (good or bad) that name files, and those files' state (issue 14)
    media: dict[str, MediaSeen] = field(default_factory=dict)
    # read, good, but not stored: a file they name was still being written (`hold`)
    held: dict[str, MediaSeen] = field(default_factory=dict)


READ_WITH = "reading.languages"  # the store fact: the languages the folder was read with
# Files stored a transaction. A first import reads the next batch while it stores one, so
# two are held at once (issue 18): 1,000 keeps its peak where one batch of 2,000 had it.
BATCH = 1000


def ingest(
    settings: Settings,
    store: Store,
    clock: Clock,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Scan the whole items folder (files whose size and mtime are unchanged are not read,
    unless the configured languages changed since the last scan: then every file is, since
    a suffix may now name a language, issue 15)."""
    known = store.releases.file_states()
    files = release_files(settings.items.dir)
    present = {rel for rel, _, _ in files}
    languages = reading_languages(settings)
    # A store from before languages existed was read with the site's own language only.
    stored = store.releases.fact(READ_WITH)
    read_with = stored or settings.site.language
    relearn = bool(known) and read_with != languages
    changed = files if relearn else _changed(settings, files, known, store.releases.media_sources())
    result = store_files(
        settings, store, clock, changed, set(known) - present, len(files), progress
    )
    if stored != languages:
        store.releases.set_fact(READ_WITH, languages)
    return result


def _changed(
    settings: Settings,
    files: list[tuple[str, str, FileState]],
    known: dict[str, FileState],
    sources: dict[str, tuple[str, ...]],
) -> list[tuple[str, str, FileState]]:
    """The files whose state is not the stored one: for a release that names files, the
    state combined with theirs (reading/file_states.py); each is read from its text state."""
    now = with_media(settings.items.dir, files, sources)
    return [
        text for text, (rel, _, state) in zip(files, now, strict=True) if known.get(rel) != state
    ]


def store_files(
    settings: Settings,
    store: Store,
    clock: Clock,
    files: list[tuple[str, str, FileState]],
    gone: set[str],
    present: int,
    progress: Callable[[int, int], None] | None = None,
    *,
    hold: Callable[[MediaSeen], bool] | None = None,
) -> IngestResult:
    """Read `files` and store them, BATCH at a time; withdraw the releases of `gone` files;
    then publish what is due, in date order across every batch. A release whose files
    `hold` says are still being written is read but not stored (the scanner's settle rule
    for files it learns of only by reading the text: a video still being copied beside a
    new release must not go out cut)."""
    changes, problems, stored, media = Changes(), [], {}, {}
    held: dict[str, MediaSeen] = {}
    for n, folder in enumerate(_read_batches(settings, files, progress)):
        if hold is not None:
            held |= _held(folder, hold)
        part = store.releases.sync(
            folder.releases,
            gone if n == 0 else set(),
            clock.now(),
            settings.site.tz,
            publish=False,
            search_texts=folder.search_texts,
        )
        changes.merge(part)
        problems += folder.problems
        media.update(folder.media)
        clashes = {path for path, _, _ in part.duplicates}
        problems += [
            ReadProblem(path, 1, f"id {release_id!r} is already used by {other}")
            for path, release_id, other in part.duplicates
        ]
        stored.update(
            (release.source, state)
            for release, state in folder.releases
            if release.source not in clashes
        )
    # The last batch (its releases, bodies and all) is not held while everything is
    # published: a first import's peak is there (issue 12).
    del folder, part
    changes.merge(store.releases.publish_due(clock.now()))
    if len(files) >= _PARALLEL_FROM:
        _give_back_memory()
    problems.sort(key=lambda p: (p.path, p.line))
    return IngestResult(changes, problems, present, stored, media, held)


def _held(folder: FolderRead, hold: Callable[[MediaSeen], bool]) -> dict[str, MediaSeen]:
    """Take out of `folder` the releases whose files `hold` says are still being written."""
    held = {
        release.source: seen
        for release, _ in folder.releases
        if (seen := folder.media.get(release.source)) is not None and hold(seen)
    }
    if held:
        folder.releases = [(r, state) for r, state in folder.releases if r.source not in held]
    return held


def _give_back_memory() -> None:
    """After a large import, return freed heap to the system (glibc keeps it otherwise)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    trim = getattr(ctypes.CDLL(libc_name), "malloc_trim", None)
    if trim is not None:
        trim(0)


_PARALLEL_FROM = 1000  # files to read; below it a process pool costs more than it saves
_CHUNK = 250  # files a worker reads at a time


def _read_batches(
    settings: Settings,
    files: list[tuple[str, str, FileState]],
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[FolderRead]:
    """`files` read BATCH at a time, in order (one empty read for no files). A large read
    (a first import) is done by one process per CPU for all its batches: they read the next
    batch while the caller stores this one (one batch ahead, no more: memory stays flat,
    issue 12), and make each release's search text, which cost storing it as much as
    reading it (issue 18)."""
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)] or [[]]
    if len(files) < _PARALLEL_FROM or (os.cpu_count() or 1) == 1:
        done = 0
        for batch in batches:
            yield read_files(settings, batch, progress=_offset(progress, done, len(files)))
            done += len(batch)
        return
    # fork is fastest, but forking a process that runs other threads (the live service)
    # can copy a lock some other thread holds: spawn there.
    single = threading.active_count() == 1
    context = multiprocessing.get_context("fork" if os.name == "posix" and single else "spawn")
    with ProcessPoolExecutor(
        os.cpu_count(), mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
    ) as pool:

        def submit(batch: list[tuple[str, str, FileState]]) -> list[Future[FolderRead]]:
            chunks = [batch[i : i + _CHUNK] for i in range(0, len(batch), _CHUNK)]
            return [pool.submit(read_indexed, settings, chunk) for chunk in chunks]

        done = 0
        ahead = submit(batches[0])
        for n, batch in enumerate(batches):
            reading, ahead = ahead, submit(batches[n + 1]) if n + 1 < len(batches) else []
            out = FolderRead()
            for future, size in zip(reading, range(0, len(batch), _CHUNK), strict=True):
                part = future.result()
                out.releases += part.releases
                out.problems += part.problems
                out.present |= part.present
                out.media |= part.media
                out.search_texts |= part.search_texts
                done += min(_CHUNK, len(batch) - size)
                if progress is not None:
                    progress(done, len(files))
            yield out


def _offset(
    progress: Callable[[int, int], None] | None, base: int, total: int
) -> Callable[[int, int], None] | None:
    """A batch's progress as the whole read's."""
    if progress is None:
        return None
    return lambda n, _batch: progress(base + n, total)


def ingest_files(
    settings: Settings, store: Store, clock: Clock, rel_paths: Iterable[str]
) -> IngestResult:
    """Ingest only the named files (relative to the items folder), as a file-system watcher
    reports them: a file that is there is read, one that is not is withdrawn. The cost
    follows the change, not the size of the folder."""
    rel_paths = sorted(set(rel_paths) | _naming(settings, store, rel_paths))
    known = store.releases.file_states(rel_paths)
    files = [found for rel in rel_paths if (found := file_at(settings.items.dir, rel))]
    changed = _changed(settings, files, known, store.releases.media_sources(rel_paths))
    present = {rel for rel, _, _ in files}
    return store_files(settings, store, clock, changed, set(known) - present, len(files))


def _naming(settings: Settings, store: Store, rel_paths: Iterable[str]) -> set[str]:
    """The releases a named file that is not a release may belong to (issue 14): its
    bundle's index, and every stored release that names it."""
    others = {rel for rel in rel_paths if not is_release_name(posixpath.basename(rel))}
    if not others:
        return set()
    folders = {posixpath.dirname(rel) for rel in others} - {""}
    found = {posixpath.join(folder, name) for folder in folders for name in INDEX_NAMES}
    for folder in folders:  # and its translations' indexes, index.zh.md (issue 15)
        found.update(bundle_indexes(settings.items.dir, folder))
    for release, sources in store.releases.media_sources().items():
        if others.intersection(sources):
            found.add(release)
    return found
