"""When a release that names files must be read again (issue 14), without costing a
release without files anything.

A release file's `FileState` is (mtime_ns, size) from the folder listing a scan makes
anyway. A release that names files gets a combined state: `mtime_ns` the newest of its
text's mtime and its files' mtimes and ctimes, `media` a digest of each file's (inode, size,
mtime, ctime), or of its absence. The store keeps that state with the list of files
(`releases.media_state`, `releases.media`); a scan asks the store which releases name files
(`store.releases.media_sources()`) and stats those files, and only those: one stat per
named file, none for a release without files. So a photo changed, replaced (ctime moves
even when `cp -p` or `rsync -t` keep an older mtime), removed, or copied in where it was
missing, changes its release's state like a text edit, and the newest time makes a file
still being written wait for items.settle_seconds like a text file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedsvc.model import FileState

__all__ = ["MediaSeen", "combined", "media_seen", "with_media"]


@dataclass(frozen=True)
class MediaSeen:
    """The files a release named (paths relative to items/) and their state when looked at."""

    sources: tuple[str, ...]
    newest_ns: int  # the newest mtime or ctime among them
    digest: str

    def state(self, text: FileState) -> FileState:
        """The release's combined state, from its text file's."""
        return FileState(max(text.mtime_ns, self.newest_ns), text.size, self.digest)


def media_seen(items_dir: Path, sources: Sequence[str]) -> MediaSeen:
    digest = hashlib.sha256()
    newest = 0
    for source in sources:
        try:
            st = os.stat(items_dir / source)
        except OSError:
            digest.update(f"{source}\0missing\n".encode())
            continue
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        digest.update(
            f"{source}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode()
        )
    return MediaSeen(tuple(sources), newest, digest.hexdigest()[:32])


def combined(items_dir: Path, text: FileState, sources: Sequence[str]) -> FileState:
    """A release file's state now: its text's, combined with its files' when it names any."""
    if not sources:
        return text
    return media_seen(items_dir, sources).state(text)


def with_media(
    items_dir: Path,
    files: list[tuple[str, str, FileState]],
    sources: Mapping[str, Sequence[str]],
) -> list[tuple[str, str, FileState]]:
    """`files` (rel, path, text state) with the combined state of those that name files."""
    if not sources:
        return files
    return [
        (rel, path, combined(items_dir, state, sources[rel]) if rel in sources else state)
        for rel, path, state in files
    ]
