"""Personal data at rest: addresses masked in the text that is kept, and the service's
private state (the SQLite database, the maildir, the signing key) in files and folders
only its owner can read (issue 11).

The modes are set on each file and folder, never through the umask: `feedsvc build`
writes a public export that a web server must be able to read."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from pathlib import Path

log = logging.getLogger("feedsvc")

FOLDER_MODE, FILE_MODE = 0o700, 0o600
_ADDRESS = re.compile(r"([^\s@<>\"(),;:\[\]])[^\s@<>\"(),;:\[\]]*@([A-Za-z0-9.-]+)")


def masked(text: str) -> str:
    """No whole email address: 'friend@example.org' -> 'f…@example.org' (the form the
    logs use). Masking masked text changes nothing."""
    return _ADDRESS.sub(r"\1…@\2", text)


def private_folder(path: Path) -> Path:
    """Make `path` a folder only its owner can enter (0700): made so, with the parents it
    lacks, or tightened when it is there and looser. Parents that exist are not touched
    (they may be a home or a shared folder)."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)  # exist_ok: another process was first
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
    if path.stat().st_mode & stat.S_ISVTX:
        # A shared folder (/tmp, /var/tmp: sticky, everyone's) given as the folder of a
        # backup or a key is not ours to close: 0700 on /tmp breaks every other user of
        # the machine (it did: PostgreSQL's initdb). What we write in it is 0600.
        return path
    _tighten(path, FOLDER_MODE)
    return path


def private_file(path: Path, create: bool = True) -> None:
    """Make `path` a file only its owner can read and write (0600): an empty one is made
    if it is missing (and `create`), a looser one is tightened."""
    if create:
        # O_RDONLY: an existing file is not changed (or truncated), only created if absent.
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE))
    try:
        _tighten(path, FILE_MODE)
    except FileNotFoundError:
        if create:
            raise
        # Gone meanwhile: SQLite removes a -wal or -shm when another process closes the
        # database's last connection, between any check and the chmod (a build's workers do).


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) & 0o077 == 0:
        return
    try:
        path.chmod(mode)
    except PermissionError as error:  # not ours: say so, and go on
        log.warning(
            "%s is readable by others and holds personal data, but cannot be made private "
            "(%s): chmod %o it",
            path,
            error.strerror,
            mode,
        )
