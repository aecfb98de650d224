"""Old exports set aside after the swap and removed while the next build works (issue 18
item 2): on a busy disk, removing the 10,000 folders of the export a second build replaced
took longer than everything else that build did.

The old export is renamed into the server's cache folder (one rename, when it is on the
same file system; else it is removed there and then), never left beside the export. Each
build starts a thread removing what the one before set aside, overlapping its own work,
and waits for it before it returns: the time stays in the build that pays it.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path


class Trash:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder  # None: no cache folder; old exports are removed at once
        self._thread: threading.Thread | None = None

    def empty_meanwhile(self) -> None:
        """Start removing what earlier builds set aside."""
        if self.folder is None or not self.folder.is_dir():
            return
        entries = list(self.folder.iterdir())  # not what this build adds later
        if entries:
            self._thread = threading.Thread(
                target=_remove_all, args=(entries,), name="trash", daemon=True
            )
            self._thread.start()

    def put(self, old: Path) -> None:
        """Set the swapped-out export `old` aside (Callable for export.staged)."""
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                os.rename(old, self.folder / uuid.uuid4().hex)
                return
            except OSError:
                pass  # another file system, or no room to rename: removed here instead
        shutil.rmtree(old, ignore_errors=True)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _remove_all(entries: list[Path]) -> None:
    for entry in entries:
        shutil.rmtree(entry, ignore_errors=True)
