"""The static export: every document and every release's file, swapped in atomically.

The new export is written beside the old one and exchanged with it in one step
(Linux renameat2 RENAME_EXCHANGE; elsewhere two renames), so a web server serving
the folder never sees half a build, and a failed build leaves the old one in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from feedsvc import layout
from feedsvc.errors import ExportError
from feedsvc.media import Job, MediaError
from feedsvc.model import StoredRelease
from feedsvc.publishing.media import Found, ReleaseMedia, SourceChanged
from feedsvc.publishing.packing import gzipped
from feedsvc.publishing.site import Document

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class ExportStats:
    files: int
    bytes: int  # rendered: what reused files hold was counted by the build that wrote them
    reused: int = 0  # of `files`, hard-linked unchanged from the previous export (issue 18)

    def __add__(self, other: ExportStats) -> ExportStats:
        return ExportStats(
            self.files + other.files, self.bytes + other.bytes, self.reused + other.reused
        )


@contextmanager
def staged(out: Path, discard: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A fresh folder beside `out` to write the new export into; swapped in for `out` when
    the block ends without an error, removed (and `out` left as it was) when it fails.
    `discard` takes the old export once swapped out (default: removed there and then)."""
    out = out.resolve()
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass  # checked just below, with a clearer message
    except OSError as e:
        raise ExportError(f"cannot create the export's folder {parent}: {e.strerror}") from None
    if not parent.is_dir():
        raise ExportError(f"cannot write the export to {out}: {parent} is not a folder")
    try:
        _remove_stale(parent, out.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    except OSError as e:
        raise ExportError(
            f"cannot write the export next to {out}: {e.strerror}; the previous export is unchanged"
        ) from None
    try:
        yield staging
        staging.chmod(0o755)
        _swap_in(staging, out, discard or _remove)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(
            f"cannot write the export to {out}: {e.strerror} ({e.filename or out}); "
            "the previous export is unchanged"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def export(documents: Iterable[Document], out: Path) -> ExportStats:
    """Write `documents` as the export at `out`, atomically."""
    with staged(out) as staging:
        return write_documents(documents, staging)


def write_documents(documents: Iterable[Document], root: Path, threads: int = 4) -> ExportStats:
    """Write documents under `root`. File system calls and gzip (packing.py) release the
    GIL, so a few threads overlap the disk's latency with rendering; `threads * 8` documents
    at most are held in memory waiting to be written."""
    files = size = 0
    slots = threading.BoundedSemaphore(threads * 8)

    def write(doc: Document) -> int:
        try:
            target = root / doc.file
            if "/" in doc.file:
                # Several threads and processes write one tree: exist_ok makes that safe.
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(doc.body)
            if doc.gzip_level is not None:
                packed = gzipped(doc.body, doc.gzip_level)  # the same body, the same bytes
                target.with_name(target.name + ".gz").write_bytes(packed)
                return 2
            return 1
        finally:
            slots.release()

    with ThreadPoolExecutor(threads, thread_name_prefix="export") as pool:
        pending = []
        for doc in documents:
            slots.acquire()
            pending.append(pool.submit(write, doc))
            size += len(doc.body)
            if len(pending) >= 256:
                files += sum(f.result() for f in pending)
                pending.clear()
        files += sum(f.result() for f in pending)
    return ExportStats(files, size)


def media_files(
    releases: Iterable[StoredRelease], media: ReleaseMedia, workers: int
) -> list[tuple[str, Path]]:
    """Every file of `releases` (issue 14): its place in the export, releases/<id>/<name>
    (attachments, pictures' own names and every variant), and the media cache's file it is.
    Missing variants are made first, `workers` at a time."""
    files: list[tuple[str, Found]] = []
    jobs: dict[str, Job] = {}
    for stored in releases:
        for ref in stored.release.media:
            variants = media.variants(ref)
            files += [(layout.release_file(stored.id, v.name), Found(ref, v)) for v in variants]
            if ref.is_image:
                files.append(
                    (layout.release_file(stored.id, ref.name), Found(ref, media.widest(ref)))
                )
                recipes = tuple(v.recipe for v in variants if v.recipe is not None)
                jobs[ref.sha256] = Job(ref.sha256, media.items_dir / ref.source, recipes)
    try:
        media.cache.process_all(jobs.values(), workers=workers)
        return [(path, media.file_of(found)) for path, found in files]
    except (SourceChanged, MediaError, ValueError) as e:
        raise ExportError(f"cannot export a release's file: {e}; run the build again") from None


def place_media(
    files: Iterable[tuple[str, Path]], root: Path, present: Mapping[str, int]
) -> ExportStats:
    """Each file hard-linked from the media cache (copied across file systems), so an
    export costs no second copy of its pictures and videos; but those `present` already
    (path -> size: the same file, kept in a spare export)."""
    count = size = 0
    for path, source in files:
        count += 1
        size += present[path] if path in present else _place(source, root / path)
    return ExportStats(count, size)


def _place(source: Path, target: Path) -> int:
    """`source` at `target`: a hard link, or a copy where links cannot be made."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, target)
        target.chmod(0o644)
    return target.stat().st_size


def _swap_in(staging: Path, out: Path, discard: Callable[[Path], None]) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        discard(staging)  # staging now holds the old export
        return
    old = staging.with_name(staging.name.replace(".new-", ".old-"))
    os.rename(out, old)
    os.rename(staging, out)
    discard(old)


def _remove(old: Path) -> None:
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def _remove_stale(parent: Path, name: str) -> None:
    """Leftovers of builds that were killed half-way."""
    for entry in parent.glob(f".{name}.new-*"):
        shutil.rmtree(entry, ignore_errors=True)
    for entry in parent.glob(f".{name}.old-*"):
        shutil.rmtree(entry, ignore_errors=True)
