"""Which files under items/ are releases: every .txt/.md/.markdown file, except in a bundle
(issue 14, Hugo's leaf bundle): a folder holding `index.txt`, `index.md` or `index.markdown`
is one release, that index, and everything else in it (other text files, subfolders) is
its resources, never a release itself."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from feedsvc.model import FileState

READER_EXTENSIONS = (".txt", ".md", ".markdown")  # reading.READERS' keys
INDEX_NAMES = tuple("index" + ext for ext in READER_EXTENSIONS)


def is_release_name(name: str) -> bool:
    """Hidden files and editors' backups and locks are not releases."""
    if name.startswith((".", "~", "#")) or name.endswith("~"):
        return False
    return os.path.splitext(name)[1].lower() in READER_EXTENSIONS


def is_bundle_index(rel: str) -> bool:
    """`rel` is the index of a bundle (a folder below items/, not items/ itself)."""
    folder, name = posixpath.split(rel)
    return bool(folder) and name.lower() in INDEX_NAMES


def release_files(items_dir: Path) -> list[tuple[str, str, FileState]]:
    """(relative path, path, state) of every release file under items_dir, in path order.
    os.scandir, not pathlib: this runs on every scan of a folder of 100,000 files. A folder
    is listed once, as before; a bundle's is only kept whole until its index is known."""
    found: list[tuple[str, str, FileState]] = []
    pending = [(str(items_dir), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as listing:
            entries = list(listing)
        bundle = bool(prefix) and any(e.name.lower() in INDEX_NAMES for e in entries)
        for entry in entries:
            if bundle and entry.name.lower() not in INDEX_NAMES:
                continue  # a resource of the bundle (or its subfolder)
            if entry.is_dir(follow_symlinks=True):
                if not entry.name.startswith("."):
                    pending.append((entry.path, prefix + entry.name + "/"))
            elif is_release_name(entry.name):
                st = entry.stat()
                found.append(
                    (prefix + entry.name, entry.path, FileState(st.st_mtime_ns, st.st_size))
                )
    found.sort(key=lambda item: item[0])
    return found


def file_at(items_dir: Path, rel: str) -> tuple[str, str, FileState] | None:
    """The one release file at `rel`, or None if it is not there (or not a release)."""
    path = items_dir / rel
    if not is_release_name(path.name):
        return None
    if in_bundle(items_dir, rel):
        return None
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return rel, str(path), FileState(st.st_mtime_ns, st.st_size)


def in_bundle(items_dir: Path, rel: str) -> bool:
    """`rel` is a resource of a bundle: a folder (or one above it, below items/) holds an
    index. A few stats, for the files a watcher names."""
    folder = posixpath.dirname(rel)
    if is_bundle_index(rel):
        folder = posixpath.dirname(folder)  # its own index makes it a bundle, not a resource
    while folder:
        if any((items_dir / folder / name).is_file() for name in INDEX_NAMES):
            return True
        folder = posixpath.dirname(folder)
    return False
