"""The static export: every document as a file, swapped in atomically.

The new export is written beside the old one and exchanged with it in one step
(Linux renameat2 RENAME_EXCHANGE; elsewhere two renames), so a web server serving
the folder never sees half a build, and a failed build leaves the old one in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from feedsvc.errors import ExportError
from feedsvc.publishing.site import Document

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# Feeds and the sitemap get a precompressed sibling for nginx's gzip_static.
_GZIP_SUFFIXES = (".xml", ".json")


@dataclass(frozen=True)
class ExportStats:
    files: int
    bytes: int


def export(documents: Iterable[Document], out: Path) -> ExportStats:
    out = out.resolve()
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent, out.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    except OSError as e:
        raise ExportError(f"cannot write the export next to {out}: {e.strerror}") from None
    try:
        stats = _write_all(documents, staging)
        staging.chmod(0o755)
        _swap_in(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(
            f"cannot write the export to {out}: {e.strerror} ({e.filename or out}); "
            "the previous export is unchanged"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stats


def _write_all(documents: Iterable[Document], root: Path) -> ExportStats:
    files = size = 0
    made: set[str] = set()
    for doc in documents:
        target = root / doc.file
        folder = os.path.dirname(doc.file)
        if folder and folder not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        target.write_bytes(doc.body)
        files += 1
        size += len(doc.body)
        if doc.file.endswith(_GZIP_SUFFIXES):
            # mtime=0: the same document gives the same .gz bytes.
            packed = gzip.compress(doc.body, compresslevel=9, mtime=0)
            target.with_name(target.name + ".gz").write_bytes(packed)
            files += 1
    return ExportStats(files, size)


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the old export
        return
    old = staging.with_name(staging.name.replace(".new-", ".old-"))
    os.rename(out, old)
    os.rename(staging, out)
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
