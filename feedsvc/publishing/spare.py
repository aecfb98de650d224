"""The spare export (issue 18 item 2): the export a build replaced, kept in the server's
cache folder, and brought up to date in place by the next build instead of a fresh tree.

A fresh staging folder costs a second build a mkdir for each of the 10,000 releases' folders,
a hard link for each file kept, and removing the 10,000 folders of the export it replaces:
more than everything else that build does. The export before the current one, by contrast,
is a tree that differs from the next export only in what changed in two builds. So the
replaced export is renamed to `export-<h>.spare` beside the manifest (`manifest_path`),
with its manifest (`export-<h>.spare.manifest`: the one that described it while it was served,
by device and inode, so it is never confused with another folder). The next build:

- takes it (`Spare.take`): its manifest is removed first, for good (a build that dies half
  way leaves a folder nobody trusts, removed with the other leftovers), and the folder is
  renamed over the build's empty staging folder beside the export;
- lists it with `find` in another process (`Listing`): from the start of `feedsvc build`
  (`list_ahead`: the listing is done by the time the folder is read and the store keyed,
  which took a second build a fifth of a second while it waited for `find`), or while the
  store is keyed;
- keeps each group whose key did not move and whose files are exactly as written (size,
  inode, mtime); removes every other file, and every folder that no longer holds a kept file,
  whatever it was: a stale group, a document every build renders, a release's file, or a
  file nobody wrote (one an operator dropped into the export while it was served: a cold
  build would not have it);
- then links from the current export and renders the rest, as into a fresh folder.

Nothing is ever written into a kept file: its inode may also be the current export's. Where
the cache folder is on another file system or mount than the export, the spare is kept as
a hidden folder beside the export (`Spare.folders`); where neither can be renamed into, the
replaced export is removed, as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from feedsvc.publishing import manifest
from feedsvc.publishing.manifest import Entry, Manifest

Stat = tuple[int, int, int]  # size, inode, mtime_ns


@dataclass
class Spare:
    """The spare of the export at `out`, whose manifest is at `where`."""

    where: Path  # the export's manifest
    out: Path  # the export
    discard: Callable[[Path], None]  # removes what cannot be kept (Trash.put)
    ahead: Listing | None = None  # list_ahead's (its caller closes it), of a spare
    set_aside: bool = field(default=False, init=False)  # the replaced export became the spare
    listed: Listing | None = field(default=None, init=False)  # `ahead`, if of the spare taken

    @property
    def folders(self) -> tuple[Path, Path]:
        return spare_folders(self.where, self.out)

    @property
    def manifest(self) -> Path:
        return self.where.with_name(f"{self.where.stem}.spare{self.where.suffix}")

    def take(self, staging: Path) -> Manifest | None:
        """Move a trustworthy spare onto the empty folder `staging`; what it held, or None
        (none, or none to trust: `staging` stays empty)."""
        found = manifest.load_of(self.manifest, self.folders)
        try:
            self.manifest.unlink(missing_ok=True)  # from here on, never trusted again
        except OSError:
            return None
        taken = None
        if found is not None:
            ahead = self.ahead if self.ahead is not None and self.ahead.lists(found[0]) else None
            if ahead is not None:
                ahead.read()  # all of it, before the folder moves (find walks it by name)
            with contextlib.suppress(OSError):
                os.rename(found[0], staging)  # over an empty folder: allowed, atomic
                taken = found[1]
                self.listed = ahead
        for folder in self.folders:
            if folder.exists():
                self.discard(folder)  # not trusted, or not taken: nobody else will be
        return taken

    def keep(self, old: Path) -> None:
        """Set the replaced export `old` aside as the next build's spare (Callable for
        export.staged's `discard`)."""
        for folder in self.folders:
            try:
                if folder.exists():
                    self.discard(folder)  # a leftover nobody took
                os.rename(old, folder)
            except OSError:
                continue  # another file system or mount: the next place
            self.set_aside = True
            return
        self.discard(old)

    def commit(self, pending: Path) -> None:
        """After the swap: the export's manifest becomes the spare's (it describes the
        folder just set aside, by its inode), and `pending` the export's."""
        if self.set_aside:
            # Where the replaced export had none, the spare has none: it is not trusted.
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.where, self.manifest)
        manifest.commit(pending, self.where)
        for legacy in (self.where.with_suffix(".json"), self.where.with_suffix(".spare.json")):
            with contextlib.suppress(OSError):
                legacy.unlink()  # the JSON manifests of before (issue 18): never read again


def spare_folders(where: Path, out: Path) -> tuple[Path, Path]:
    """Where the spare of the export at `out` (manifest at `where`) is kept: the cache
    folder; else, where a rename cannot reach it from the export (another file system, or
    another mount: systemd's ReadWritePaths and CacheDirectory are), a hidden folder beside
    the export. A web server serving the export (deploy/nginx.conf: root is the export)
    never serves either."""
    return where.with_suffix(".spare"), out.with_name(f".{out.name}.spare")


def list_ahead(where: Path | None, out: Path) -> Listing | None:
    """The spare of the export at `out` listed from now, in another process, while the
    build reads the folder and keys the store; None without one. Spare.take uses it if it
    takes the very folder listed (its device and inode); the caller closes it."""
    if where is None:
        return None
    for folder in spare_folders(where, out):
        with contextlib.suppress(OSError):
            return Listing(folder)
    return None


class Listing:
    """Every file and folder under `root`, listed by `find` in another process (the build
    keys the store meanwhile); in this one where `find` cannot run. Read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        st = os.stat(root)  # OSError: nothing to list
        self._identity = (st.st_dev, st.st_ino)
        self._read: tuple[dict[str, Stat], list[str]] | None = None
        fmt = "%y %s %i %T@ %P\\0"
        self._out: IO[bytes] | None = None
        self._find: subprocess.Popen[bytes] | None = None
        try:
            # Into a file, not a pipe: find would stop at the pipe's 64 KiB until read, and
            # a listing of 10,000 releases' folders is 1.3 MB (issue 18).
            self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by read or close)
            self._find = subprocess.Popen(
                ["find", str(root), "-mindepth", "1", "-printf", fmt],
                stdout=self._out,
                stderr=subprocess.DEVNULL,
            )
        except OSError:  # no find, or no room for its listing: walked in this process
            self._find = None

    def close(self) -> None:
        if self._find is not None and self._find.poll() is None:
            self._find.kill()
            self._find.wait()
        if self._out is not None:
            self._out.close()

    def lists(self, folder: Path) -> bool:
        """Whether `folder` is the very folder listed (by device and inode: the one at the
        root's path then, wherever it has moved since)."""
        try:
            st = os.stat(folder)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def read(self) -> tuple[dict[str, Stat], list[str]]:
        """Files (regular ones with their size, inode and mtime; anything else, links
        included, as (-1, -1, -1)) and folders, as paths relative to the root."""
        if self._read is None:
            if self._find is not None and self._out is not None and self._find.wait() == 0:
                self._out.seek(0)
                self._read = _parse(self._out.read())
            if self._out is not None:
                self._out.close()
            if self._read is None:
                self._read = _walk(self.root)
        return self._read


def _parse(out: bytes) -> tuple[dict[str, Stat], list[str]]:
    files: dict[str, Stat] = {}
    folders: list[str] = []
    for record in out.split(b"\0"):
        if not record:
            continue
        kind, size, inode, mtime, name = record.split(b" ", 4)
        path = os.fsdecode(name)
        if kind == b"d":
            folders.append(path)
        elif kind == b"f":
            seconds, _, fraction = mtime.partition(b".")
            ns = int(seconds) * 10**9 + int(fraction[:9].ljust(9, b"0") or b"0")
            files[path] = (int(size), int(inode), ns)
        else:
            files[path] = (-1, -1, -1)  # a link, a pipe...: never a kept document
    return files, folders


def _walk(root: Path) -> tuple[dict[str, Stat], list[str]]:
    files: dict[str, Stat] = {}
    folders: list[str] = []
    base = len(str(root)) + 1
    for folder, dirs, names in os.walk(root):
        rel = folder[base:]
        # A link to a folder is listed with the folders (and not followed): a file here.
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = [d for d in dirs if d not in links]
        folders += [f"{rel}/{d}" if rel else d for d in dirs]
        for name in [*names, *links]:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            regular = st.st_mode & 0o170000 == 0o100000
            stat = (st.st_size, st.st_ino, st.st_mtime_ns) if regular else (-1, -1, -1)
            files[path[base:]] = stat
    return files, folders


def bring_up_to_date(
    root: Path,
    listing: Listing,
    previous: Manifest,
    keys: Mapping[str, str],
    media: Iterable[tuple[str, Path]] = (),
) -> tuple[dict[str, Entry], dict[str, int]]:
    """Keep in the spare at `root` the groups of `previous` whose key is still `keys`' and
    whose files are as written, and the releases' files (`media`: path, the media cache's
    file) that are the very file they must be; remove everything else. The groups kept, and
    the releases' files kept with their sizes."""
    files, folders = listing.read()
    placed = _same_files(files, media)
    kept: dict[str, Entry] = {}
    keep: set[str] = set()
    for group, (key, entry_files) in previous.groups.items():
        if not entry_files or keys.get(group) != key:
            continue
        if all(files.get(name) == (size, ino, mtime) for name, size, ino, mtime in entry_files):
            kept[group] = (key, entry_files)
            keep.update(name for name, *_ in entry_files)
    keep.update(placed)
    prefix = f"{root}/"
    for name in files.keys() - keep:
        os.unlink(prefix + name)
    needed = {name.rpartition("/")[0] for name in keep}
    for folder in list(needed):
        while (folder := folder.rpartition("/")[0]) and folder not in needed:
            needed.add(folder)
    for folder in sorted(set(folders) - needed, key=lambda f: f.count("/"), reverse=True):
        try:
            os.rmdir(prefix + folder)
        except OSError:
            shutil.rmtree(prefix + folder, ignore_errors=True)  # what find could not list
    return kept, placed


def _same_files(files: Mapping[str, Stat], media: Iterable[tuple[str, Path]]) -> dict[str, int]:
    """The releases' files already in place: the same inode as the media cache's file (a
    copy, made across file systems, is made again)."""
    placed: dict[str, int] = {}
    for path, source in media:
        found = files.get(path)
        if found is None or found[0] < 0:
            continue
        try:
            st = os.stat(source)
        except OSError:
            continue
        if (st.st_ino, st.st_size) == (found[1], found[0]):
            placed[path] = found[0]
    return placed
