"""What the export at `out` holds, so the next build can hard-link what did not change from
it instead of rendering it again (issue 18 item 2).

The manifest maps each keyed group of documents (doc_keys.py) to its key and its files,
each with the size, inode and mtime it was written with. It lives in the server's cache
folder, not beside the export (a web server may serve that folder's parent, and nothing
else is ever left there) nor in it (a cold and a warm build give the same tree). It names
the export folder it describes by device and inode: the staging folder keeps its inode
when it is swapped in, so a build that failed or died between the swap and the
manifest's replacement leaves a manifest that no longer matches, and the next build is a
cold one. A file is reused only while it is as written: one deleted, replaced or edited
in place (size or mtime moved) is rendered again, with its whole group.

It is kept in `marshal`'s format behind a header naming the format and the Python that wrote
it: a second build reads two manifests of ~11,000 groups each, and JSON, with the tuples
made from its lists, cost ~33 ms a manifest against ~10 (issue 18). A manifest with another
header (another feedsvc or Python, the JSON of before) is not read: the next build is a cold
one (and `Spare.commit` removes the JSON ones). marshal is not meant for data from
strangers: these files are the build's own, in the server's cache folder, replaced whole
(`write_pending`, `commit`).
"""

from __future__ import annotations

import errno
import hashlib
import marshal
import os
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from feedsvc.config import Settings

# The format, the Python and the marshal version that wrote it: read by nothing else.
_HEADER = b"feedsvc export manifest 2 py%d.%d m%d\n" % (*sys.version_info[:2], marshal.version)

File = tuple[str, int, int, int]  # path in the export, size, inode, mtime_ns
Entry = tuple[str, list[File]]  # a group's key and files


@dataclass
class Manifest:
    folder: tuple[int, int]  # (st_dev, st_ino) of the export folder described
    groups: dict[str, Entry] = field(default_factory=dict)


def manifest_path(settings: Settings, out: Path) -> Path | None:
    """Where the manifest of the export at `out` is kept; None where reuse is off (settings
    without a config folder: a relative cache folder would land in the working folder)."""
    cache = settings.server.cache_dir
    if not cache.is_absolute():
        return None
    name = hashlib.blake2b(str(out.resolve()).encode(), digest_size=8).hexdigest()
    return cache / "builds" / f"export-{name}.manifest"


def load(path: Path | None, out: Path) -> Manifest | None:
    """The manifest of the export now at `out`, or None (none yet, unreadable, or of
    another export)."""
    found = load_of(path, (out,))
    return None if found is None else found[1]


def load_of(path: Path | None, folders: Iterable[Path]) -> tuple[Path, Manifest] | None:
    """The manifest at `path` and the one of `folders` it describes, read once; None when
    there is none, it cannot be read, or it describes none of them."""
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            if f.readline() != _HEADER:
                return None
            # loads of the bytes: load from the file reads it a few bytes a call (5x slower)
            described, groups = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(groups, dict):
        return None
    for folder in folders:
        try:
            here = os.stat(folder)
        except OSError:
            continue
        if described == (here.st_dev, here.st_ino):
            return folder, Manifest(described, groups)
    return None


def link_unchanged(
    previous: Manifest, keys: Mapping[str, str], old: Path, staging: Path, threads: int = 4
) -> dict[str, Entry]:
    """Hard-link into `staging` the files of every group of `previous` whose key is still
    `keys`' and whose files are intact in `old`; those groups' entries. A few threads: each
    stat, mkdir and link waits on the file system and releases the GIL meanwhile."""
    wanted = [
        (group, entry)
        for group, entry in previous.groups.items()
        if entry[1] and keys.get(group) == entry[0]
    ]
    share = -(-len(wanted) // threads) or 1
    chunks = [wanted[i : i + share] for i in range(0, len(wanted), share)]
    old_root, new_root = f"{old}/", f"{staging}/"
    reused: dict[str, Entry] = {}
    with ThreadPoolExecutor(threads, thread_name_prefix="link") as pool:
        for linked in pool.map(lambda chunk: _link(chunk, old_root, new_root), chunks):
            reused.update(linked)
    return reused


def _link(wanted: list[tuple[str, Entry]], old_root: str, new_root: str) -> dict[str, Entry]:
    reused: dict[str, Entry] = {}
    folders: set[str] = set()  # made in staging already: one mkdir a folder
    for group, (key, files) in wanted:
        if not _intact(old_root, files):
            continue
        done: list[str] = []
        try:
            for name, *_ in files:
                folder = name.rpartition("/")[0]
                if folder and folder not in folders:
                    _mkdir(new_root + folder)
                    folders.add(folder)
                os.link(old_root + name, new_root + name)
                done.append(name)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM, errno.ENOENT):
                raise
            # Rendered instead, whole: never write a document through a link to the old
            # export's file.
            for name in done:
                os.unlink(new_root + name)
            continue
        reused[group] = (key, files)
    return reused


def _mkdir(path: str) -> None:
    try:
        os.mkdir(path)  # the parent is there but for the first of each level
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def _intact(root: str, files: Iterable[File]) -> bool:
    for name, size, inode, mtime_ns in files:
        try:
            st = os.stat(root + name, follow_symlinks=False)
        except OSError:
            return False
        if (st.st_size, st.st_ino, st.st_mtime_ns) != (size, inode, mtime_ns):
            return False
    return True


def record(
    staging: Path, rendered: Mapping[str, Iterable[str]], keys: Mapping[str, str]
) -> dict[str, Entry]:
    """The entries of the keyed groups just rendered into `staging`: each document's file
    and its precompressed sibling, where written."""
    entries: dict[str, Entry] = {}
    root = f"{staging}/"
    for group, names in rendered.items():
        key = keys.get(group)
        if key is None:
            continue
        files: list[File] = []
        for name in names:
            for candidate in (name, name + ".gz"):
                try:
                    st = os.stat(root + candidate, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                files.append((candidate, st.st_size, st.st_ino, st.st_mtime_ns))
        entries[group] = (key, files)
    return entries


def write_pending(path: Path, folder: Path, groups: Mapping[str, Entry]) -> Path:
    """Write the manifest of the export being made in `folder` beside `path`; it takes
    `path`'s place (`commit`) once the export is swapped in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    st = os.stat(folder)
    data = marshal.dumps(((st.st_dev, st.st_ino), dict(groups)))
    pending = path.with_name(f"{path.name}.{os.getpid()}.new")
    pending.write_bytes(_HEADER + data)
    return pending


def commit(pending: Path, path: Path) -> None:
    os.replace(pending, path)
