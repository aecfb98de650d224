"""Which files under items/ are releases: every .txt/.md/.markdown file, except in a bundle
(issue 14, Hugo's leaf bundle): a folder holding `index.txt`, `index.md` or `index.markdown`
is one release, that index, and everything else in it (other text files, subfolders) is
its resources, never a release itself.

Issue 15: a bundle's translations are indexes too, `index.<tag>.md` beside `index.md`
(Hugo's naming); they share the folder's resources. Whether `<tag>` is a language the site
has is the reader's question (reading/language.py): the listing is a function of the
folder alone, so any middle part that is a language CLDR knows makes an index here."""

from __future__ import annotations

import os
import posixpath
import re
from functools import cache
from pathlib import Path

from babel import localedata

from feedsvc.model import FileState

READER_EXTENSIONS = (".txt", ".md", ".markdown")  # reading.READERS' keys
INDEX_NAMES = tuple("index" + ext for ext in READER_EXTENSIONS)
# index.md, index.zh.md, index.zh-Hant.markdown (RFC 5646 shape, as config/languages.py)
_INDEX = re.compile(r"index(?:\.(?P<language>[a-z]{2,3})(?:-[a-z0-9]{2,8})*)?\.(?:txt|md|markdown)")


def is_index_name(name: str) -> bool:
    """`name` is a bundle's index: its own or one of its translations' (any case). The
    middle part must name a language CLDR knows: 'index.old.md' in a folder of releases
    must not turn the folder into a bundle and its releases into resources."""
    found = _INDEX.fullmatch(name.lower())
    if found is None:
        return False
    language = found["language"]
    return language is None or _known_language(language)


@cache
def _known_language(language: str) -> bool:
    return localedata.exists(language)


def is_release_name(name: str) -> bool:
    """Hidden files and editors' backups and locks are not releases."""
    if name.startswith((".", "~", "#")) or name.endswith("~"):
        return False
    dot = name.rfind(".")  # os.path.splitext's extension (the name cannot start with one)
    return dot > 0 and name[dot:].lower() in READER_EXTENSIONS


def is_bundle_index(rel: str) -> bool:
    """`rel` is the index of a bundle (a folder below items/, not items/ itself)."""
    folder, name = posixpath.split(rel)
    return bool(folder) and is_index_name(name)


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
        bundle = bool(prefix) and any(is_index_name(e.name) for e in entries)
        for entry in entries:
            if bundle and not is_index_name(entry.name):
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
        if bundle_indexes(items_dir, folder):
            return True
        folder = posixpath.dirname(folder)
    return False


def bundle_indexes(items_dir: Path, folder: str) -> list[str]:
    """The indexes (relative paths) in `folder` below items_dir: none when it is no bundle."""
    try:
        with os.scandir(items_dir / folder) as listing:
            return sorted(
                posixpath.join(folder, e.name)
                for e in listing
                if is_index_name(e.name) and e.is_file(follow_symlinks=True)
            )
    except OSError:  # gone, not a folder, unreadable: no bundle there (as is_file said)
        return []
