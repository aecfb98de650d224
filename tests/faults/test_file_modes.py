"""The service's private state is private (issue 11): var/ holds names, addresses and
messages (the SQLite database, the maildir), so it is 0700 and its files 0600, whatever
the umask, and a var/ that a looser feedsvc left is tightened at start. A real
`feedsvc serve` in a fresh folder, sending a share through the maildir transport."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED, SEED_ID, TEST_DATABASE
from tests.faults.live import SHARE_RULES, post_share, visible
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

FRIEND = "friend@example.org"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def umask(srv: Server) -> int:
    assert srv.proc is not None
    status = Path(f"/proc/{srv.proc.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("Umask:")]
    return int(line.split()[1], 8)


def delivered(srv: Server) -> list[Path]:
    new = srv.root / "var" / "mail" / "new"
    return list(new.iterdir()) if new.exists() else []


def maildir_files(srv: Server) -> list[Path]:
    return [p for p in (srv.root / "var" / "mail").rglob("*") if p.is_file()]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Server]:
    srv = Server(
        tmp_path / "office",
        {"mail": {"transport": "maildir"}, "outbox": {"tick_seconds": 0.2}, "share": SHARE_RULES},
    )
    shutil.copy(SEED, srv.items / SEED.name)
    old = os.umask(0o022)  # the usual umask, which makes files others can read
    try:
        yield srv
    finally:
        os.umask(old)
        srv.kill()  # if the test failed before stopping it


def test_a_fresh_service_folder_keeps_its_state_private(office: Server) -> None:
    srv = office
    srv.start(ready=lambda s: visible(s, SEED_ID))
    assert post_share(srv, SEED_ID, [FRIEND], from_email="ana@example.net").status_code == 202
    [message] = wait_for(lambda: delivered(srv), 10, what="the email in the maildir")
    var = srv.root / "var"
    assert mode(var) == 0o700
    assert mode(var / "cache") == 0o700
    if TEST_DATABASE == "sqlite":
        for name in ("feedsvc.db", "feedsvc.db-wal", "feedsvc.db-shm"):
            assert mode(var / name) == 0o600, name  # -wal, -shm take the database's mode
    for folder in ("mail", "mail/tmp", "mail/new", "mail/cur"):
        assert mode(var / folder) == 0o700, folder
    assert FRIEND in message.read_text(encoding="utf-8")
    assert all(mode(p) == 0o600 for p in maildir_files(srv))
    # Modes set file by file, not by the umask: what `feedsvc build` exports must stay
    # readable by a web server.
    assert umask(srv) == 0o022
    assert srv.stop() in CLEAN_EXIT


def test_a_var_left_readable_by_others_is_tightened_at_start(office: Server) -> None:
    srv = office
    var = srv.root / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    if TEST_DATABASE == "sqlite":
        # A database as a feedsvc before issue 11 left it: readable by all, in WAL mode.
        with contextlib.closing(sqlite3.connect(var / "feedsvc.db")) as db:
            db.execute("PRAGMA journal_mode=WAL")
        (var / "feedsvc.db").chmod(0o644)
    mail = var / "mail"
    for folder in (mail, mail / "tmp", mail / "new", mail / "cur"):
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
    srv.start(ready=lambda s: visible(s, SEED_ID))
    assert mode(var) == 0o700
    if TEST_DATABASE == "sqlite":
        assert mode(var / "feedsvc.db") == 0o600
        assert mode(var / "feedsvc.db-wal") == 0o600
    assert post_share(srv, SEED_ID, [FRIEND]).status_code == 202
    wait_for(lambda: delivered(srv), 10, what="the email in the maildir")
    assert {mode(f) for f in (mail, mail / "tmp", mail / "new", mail / "cur")} == {0o700}
    assert srv.stop() in CLEAN_EXIT


def test_a_wal_removed_while_it_is_tightened_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite removes the -wal when another process closes the database's last connection,
    which a build's workers do at any moment: the one being made private meanwhile is
    simply gone (a CI run's build failed on it, ENOENT on feedsvc.db-wal)."""
    from feedsvc import privacy

    wal = tmp_path / "feedsvc.db-wal"
    wal.write_bytes(b"")
    wal.chmod(0o644)
    chmod = Path.chmod

    def removed_first(path: Path, mode: int, **kw: object) -> None:
        path.unlink(missing_ok=True)  # the other process closed its connection just now
        chmod(path, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "chmod", removed_first)
    privacy.private_file(wal, create=False)
    assert not wal.exists()
    monkeypatch.undo()
    # Not a blanket pass: a file the caller made and that vanished is still an error.
    missing = tmp_path / "var-gone" / "feedsvc.db"
    with pytest.raises(FileNotFoundError):
        privacy.private_file(missing)
