"""Variants made once per content and kept on disk (issue 14, "Cost").

A variant's file name is a hash of its source's bytes and its recipe (`variants.name`), so a
file that exists is the right one: it is never made again, across restarts, between `build`
and `serve`, or between instances sharing a folder. A file appears complete or not at all:
it is written to a temporary name beside it and renamed into place (`os.replace`, atomic on
POSIX). Two makers of one variant write the same bytes and the last rename wins.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from feedsvc.media.variants import _SHA256, Recipe, name, render
from feedsvc.workers import collect_own_cycles

_COPY_CHUNK = 1 << 20  # bytes of an attachment copied at a time


@dataclass(frozen=True, slots=True)
class Job:
    """One picture to fill the cache with: its file and the variants it needs."""

    source_sha256: str
    source: Path
    recipes: tuple[Recipe, ...]


class MediaCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, source_sha256: str, recipe: Recipe) -> Path:
        return self.folder / name(source_sha256, recipe)

    def get(self, source_sha256: str, recipe: Recipe, load_source: Callable[[], bytes]) -> bytes:
        """The variant's bytes: from disk, or made from `load_source()` (called only then)."""
        target = self.path(source_sha256, recipe)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            pass
        data = load_source()
        if hashlib.sha256(data).hexdigest() != source_sha256:
            # A wrong source would poison the cache for good: refuse it loudly.
            raise ValueError(f"the source given for {target.name} is not {source_sha256}")
        made = render(data, recipe)
        self._write(target, made)
        return made

    def original(self, sha256: str, open_source: Callable[[], BinaryIO]) -> Path:
        """An attachment's bytes kept under its SHA-256 (issue 14), so what is served or
        hard-linked into an export stays as it was read while items/ changes. Copied once,
        in chunks (a 50 MB video is never held in memory), and checked as it is copied: a
        source that is not `sha256` raises ValueError and leaves nothing."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        target = self.folder / f"original-{sha256}"
        if target.exists():
            return target
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{target.name}.")
        try:
            os.fchmod(handle, 0o644)  # as _write: a web server reads the hard links
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as file, open_source() as source:
                while chunk := source.read(_COPY_CHUNK):
                    digest.update(chunk)
                    file.write(chunk)
            if digest.hexdigest() != sha256:
                raise ValueError(f"the source given for {target.name} is not {sha256}")
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def has(self, source_sha256: str, recipe: Recipe) -> bool:
        return self.path(source_sha256, recipe).exists()

    def _write(self, target: Path, data: bytes) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{target.name}.")
        try:
            os.fchmod(handle, 0o644)  # mkstemp's 0600 would hide it from a web server
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def process_all(self, jobs: Iterable[Job], *, workers: int, processes: bool = True) -> int:
        """Make every missing variant of `jobs`, `workers` at a time; the number made.

        Processes by default: in bench/media.py on 2 cores they were 1-30% faster than threads
        (decoding and the Python around it hold the GIL; resize and encode release it)."""
        todo = [
            Job(j.source_sha256, j.source, missing)
            for j in jobs
            if (missing := tuple(r for r in j.recipes if not self.has(j.source_sha256, r)))
        ]
        if not todo:
            return 0
        if workers <= 1:
            return sum(_fill(self.folder, job) for job in todo)
        pool: Executor = (
            ProcessPoolExecutor(workers, initializer=collect_own_cycles)
            if processes
            else ThreadPoolExecutor(workers)
        )
        with pool:
            return sum(pool.map(_fill, [self.folder] * len(todo), todo))


def _fill(folder: Path, job: Job) -> int:
    """Make one picture's missing variants, reading its file once."""
    cache, source = MediaCache(folder), None

    def load() -> bytes:
        nonlocal source
        if source is None:
            source = job.source.read_bytes()
        return source

    made = 0
    for recipe in job.recipes:
        if not cache.has(job.source_sha256, recipe):
            cache.get(job.source_sha256, recipe, load)
            made += 1
    return made
