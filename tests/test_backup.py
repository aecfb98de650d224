"""`feedsvc backup DIR` and `feedsvc restore DIR` (issue 12 item 9): losing `var/` broke old
unsubscribe links, forgot the suppression list and tombstones, moved `updated` back and
sent `release.published` again. A backup taken while a real `feedsvc serve` is writing is
restored into a fresh folder and served from there; damaged backups, existing state, file
modes and PostgreSQL are checked through the real command."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import shlex
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from feedsvc.cli import main
from tests import pg
from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Receiver, verify
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import SEED, SEED_ID, TEST_DATABASE, db_rows, new_database_url, newsroom_text
from tests.faults.live import SHARE_RULES, post_share, today, visible
from tests.web.conftest import CLEAN_EXIT, Server, toml_text, wait_for

HOOK_SECRET_ENV = "FEEDSVC_TEST_BACKUP_HOOK_SECRET"
KEEPER = "keeper@example.org"  # gets an email whose unsubscribe link is used after restore
LEAVER = "leaver@example.org"  # unsubscribes before the backup
RELEASES = [f"r{n}" for n in range(5)]
GONE = "gone"  # withdrawn before the backup: a tombstone (410)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def feedsvc(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def unsubscribe_token(recorder: Recorder, address: str) -> str:
    [received] = wait_for(
        lambda: [r for r in list(recorder.received) if address in r.rcpt_tos], 10, what=address
    )
    link = received.message["List-Unsubscribe"].strip("<>")
    return urlsplit(link).query  # "t=...": the base URL is the old server's


def published_events(receiver: Receiver, secret: str) -> collections.Counter[str]:
    events = [verify(r, secret) for r in list(receiver.requests) if r.path == "/hook"]
    return collections.Counter(e["data"]["id"] for e in events if e["type"] == "release.published")


def releases(srv: Server) -> dict[str, tuple[Any, Any]]:
    rows = db_rows(srv.database_url, "SELECT id, updated, withdrawn_at FROM releases")
    return {rid: (updated, withdrawn) for rid, updated, withdrawn in rows}


def share_ids(srv: Server) -> set[str]:
    return {sid for (sid,) in db_rows(srv.database_url, "SELECT id FROM shares")}


def outbox_settled(srv: Server) -> bool:
    """Nothing due is waiting. (A delivery the old service had claimed when the backup was
    taken stays 'sending' until its lease runs out, then goes again: at least once.)"""
    rows = db_rows(srv.database_url, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
    return rows[0][0] == 0


class Load(threading.Thread):
    """What a busy service sees: shares posted one after another, and a release dropped
    into items/ every third share, until stopped."""

    def __init__(self, srv: Server) -> None:
        super().__init__(daemon=True)
        self.srv = srv
        self.stopping = threading.Event()
        self.accepted: list[tuple[float, str]] = []  # (when answered, share id)
        self.dropped: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        http = requests.Session()
        n = 0
        while not self.stopping.is_set():
            try:
                r = http.get(
                    self.srv.base + "/api/shares/token", params={"release": SEED_ID}, timeout=15
                )
                token = r.json()["token"]
                body = {"release": SEED_ID, "to": [f"load{n}@example.org"], "token": token}
                answer = http.post(self.srv.base + "/api/shares", json=body, timeout=15)
                if answer.status_code == 202:
                    self.accepted.append((time.monotonic(), answer.json()["id"]))
                else:
                    self.failures.append(f"{answer.status_code} {answer.text}")
            except (requests.RequestException, ValueError) as e:
                self.failures.append(repr(e))
            if n % 3 == 0:
                name = f"load-{n}"
                self.srv.write(f"{name}.txt", newsroom_text(f"Load {n}", today(), ["Busy."]))
                self.dropped.append(name)
            n += 1
        http.close()

    def accepted_before(self, moment: float) -> set[str]:
        return {sid for when, sid in self.accepted if when < moment}


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    secret = new_secret()
    monkeypatch.setenv(HOOK_SECRET_ENV, secret)  # the services inherit the environment
    return secret


def live_config(smtp_port: int, receiver: Receiver) -> dict[str, Any]:
    return {
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
        },
        "outbox": {"tick_seconds": 0.2, "allow_private_targets": True},
        "share": SHARE_RULES,
        "webhooks": [{"url": receiver.url + "hook", "secret_env": HOOK_SECRET_ENV}],
    }


@pytest.mark.sqlite_only  # on PostgreSQL the database is saved by pg_dump, not by feedsvc
def test_a_backup_taken_under_load_restores_into_a_fresh_folder_with_nothing_lost(
    tmp_path: Path, hook_secret: str
) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as smtp, Receiver() as receiver:
        config = live_config(smtp.port, receiver)
        old = Server(tmp_path / "old", config)
        shutil.copy(SEED, old.items / SEED.name)
        for rid in [*RELEASES, GONE]:
            old.write(f"{rid}.txt", newsroom_text(f"Release {rid}", today(), ["It happened."]))
        old.start(ready=lambda srv: [visible(srv, rid) for rid in [SEED_ID, *RELEASES, GONE]])
        try:
            # An email with an unsubscribe link, an address that used its link, a tombstone.
            assert post_share(old, SEED_ID, [KEEPER]).status_code == 202
            keeper = unsubscribe_token(recorder, KEEPER)
            assert post_share(old, SEED_ID, [LEAVER]).status_code == 202
            leaver = unsubscribe_token(recorder, LEAVER)
            done = old.http.post(f"{old.base}/unsubscribe?{leaver}", timeout=5)
            assert done.status_code == 200 and "You will get no more emails" in done.text
            (old.items / f"{GONE}.txt").unlink()
            wait_for(lambda: old.get(f"/releases/{GONE}/").status_code == 410, 10, what="410")
            wait_for(lambda: outbox_settled(old), 10, what="announcements sent")
            announced = published_events(receiver, hook_secret)
            assert {rid: announced[rid] for rid in [*RELEASES, GONE]} == dict.fromkeys(
                [*RELEASES, GONE], 1
            )
            before = releases(old)
            shares_before = share_ids(old)

            # A reader that stays (as a slow request may) keeps SQLite from checkpointing
            # what is written from now on: it is in the -wal file only, as the newest
            # writes always are, and a copy of the database file alone would miss it.
            reader = sqlite3.connect(old.root / "var" / "feedsvc.db")
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM releases").fetchall()
            load = Load(old)
            load.start()
            wait_for(lambda: len(load.accepted) >= 5, 15, what="the load going")
            started = time.monotonic()
            saved = feedsvc(old.config, "backup", str(tmp_path / "backup"))
            finished = time.monotonic()
            time.sleep(0.5)
            load.stopping.set()
            load.join(20)
            reader.close()
        finally:
            assert old.stop() in CLEAN_EXIT
        assert saved.returncode == 0, saved.stderr
        assert "backup written to" in saved.stdout, saved.stdout
        assert not load.failures, load.failures[:3]
        during = [sid for when, sid in load.accepted if started <= when <= finished]
        assert during, "no share was accepted while the backup ran: it was not under load"
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
        backed_up = manifest["database"]["counts"]["shares"]
        assert len(shares_before) + len(load.accepted_before(started)) <= backed_up
        assert backed_up <= len(share_ids(old))

        # A fresh folder: the same config and items/ (kept elsewhere, e.g. in git), no var/.
        new = Server(tmp_path / "new", config)
        shutil.copytree(old.items, new.items, dirs_exist_ok=True)
        put_back = feedsvc(new.config, "restore", str(tmp_path / "backup"))
        assert put_back.returncode == 0, put_back.stderr
        new.start(ready=lambda srv: visible(srv, SEED_ID))
        try:
            for rid in RELEASES:
                visible(new, rid)
            # A restore under a running service is refused, --force or not.
            again = feedsvc(new.config, "restore", str(tmp_path / "backup"), "--force")
            assert again.returncode == 1
            assert "in use (is feedsvc serve running?)" in again.stderr, again.stderr
            assert "Traceback" not in again.stderr

            # Every release published before the backup, with the same `updated`.
            after = releases(new)
            assert {rid: after.get(rid) for rid in before} == before
            # The tombstone still answers 410, not 404.
            assert new.get(f"/releases/{GONE}/").status_code == 410
            # Every share accepted before the backup started is there.
            assert shares_before | load.accepted_before(started) <= share_ids(new)
            # The unsubscribe link sent before the backup still works (the same key).
            asked = new.http.get(f"{new.base}/unsubscribe?{keeper}", timeout=5)
            assert asked.status_code == 200 and "Stop these emails?" in asked.text
            done = new.http.post(f"{new.base}/unsubscribe?{keeper}", timeout=5)
            assert done.status_code == 200 and "You will get no more emails" in done.text
            # The suppression list is kept: a share to the leaver sends nothing.
            shared = post_share(new, SEED_ID, [LEAVER])
            assert shared.status_code == 202, shared.text
            emails = db_rows(
                new.database_url,
                "SELECT count(*) FROM deliveries WHERE channel = 'email' AND subject = :id",
                id=shared.json()["id"],
            )
            assert emails == [(0,)]
            # Nothing published before the backup is announced again: a few scan and
            # outbox ticks later, each was sent release.published once, by the old service.
            for name in load.dropped:
                visible(new, name)
            wait_for(lambda: outbox_settled(new), 15, what="the new outbox settled")
            time.sleep(1.5)
            again_announced = published_events(receiver, hook_secret)
            assert {rid: again_announced[rid] for rid in [*RELEASES, GONE]} == dict.fromkeys(
                [*RELEASES, GONE], 1
            )
        finally:
            assert new.stop() in CLEAN_EXIT


# -- in process: a small office, its backup, and what restore refuses ---------------------------

CONFIG = {
    "site": {"base_url": "https://press.example.org/", "id_authority": "press.example.org"},
}


def office(root: Path, database: str | None = None) -> Path:
    """A service folder: its config.toml (returned) and items/ with the seed; the store and
    the key are made by the first command that needs them."""
    (root / "items").mkdir(parents=True)
    shutil.copy(SEED, root / "items" / SEED.name)
    config = root / "config.toml"
    tables = {**CONFIG, "database": {"url": database or new_database_url(root)}}
    config.write_text(toml_text(tables), encoding="utf-8")
    return config


def run(config: Path, *args: str) -> int:
    return main([*args, "--config", str(config)])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An office with a release and a share, and a backup of it, made once."""
    root = tmp_path_factory.mktemp("pristine")
    config = office(root / "old")
    assert run(config, "build", "--out", str(root / "public"), "--jobs", "1") == 0
    assert run(config, "share", SEED_ID, "--to", KEEPER) == 0
    assert run(config, "backup", str(root / "backup")) == 0
    return root / "old", root / "backup"


@pytest.fixture
def made(
    pristine: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    """The office's folder, and a copy of its backup for this test to damage."""
    capsys.readouterr()
    root, folder = pristine
    copy = tmp_path / "backup"
    shutil.copytree(folder, copy)
    return root, copy


def fresh(tmp_path: Path) -> Path:
    """A new service folder with a config and items/, and no var/ yet."""
    return office(tmp_path / "new")


def damage_key(folder: Path) -> Path:
    path = folder / "secret_key"
    path.write_bytes(path.read_bytes()[:-1] + b"#")
    return path


def damage_database(folder: Path) -> Path:
    path = folder / "feedsvc.db"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def truncate_database(folder: Path) -> Path:
    path = folder / "feedsvc.db"
    path.write_bytes(path.read_bytes()[:4096])
    return path


def drop_key(folder: Path) -> Path:
    path = folder / "secret_key"
    path.unlink()
    return path


def drop_manifest(folder: Path) -> Path:
    """A backup cut short before its manifest was written."""
    path = folder / "manifest.json"
    path.unlink()
    return path


DAMAGES = [
    pytest.param(damage_key, "SHA-256 does not match", id="key-flipped"),
    pytest.param(drop_key, "missing", id="key-missing"),
    pytest.param(drop_manifest, "missing", id="manifest-missing"),
    pytest.param(
        damage_database, "SHA-256 does not match", id="db-flipped", marks=pytest.mark.sqlite_only
    ),
    pytest.param(
        truncate_database, "the manifest says", id="db-truncated", marks=pytest.mark.sqlite_only
    ),
]


@pytest.mark.parametrize(("damage", "said"), DAMAGES)
def test_a_damaged_backup_is_refused_naming_the_file_and_nothing_is_written(
    made: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Any,
    said: str,
) -> None:
    _, folder = made
    broken = damage(folder)
    config = fresh(tmp_path)
    assert run(config, "restore", str(folder)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"feedsvc: {broken}:") and said in err, err
    assert not (tmp_path / "new" / "var").exists()


def test_a_manifest_naming_other_files_is_refused(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The manifest is a file anyone may edit: it cannot make restore read other files."""
    _, folder = made
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"][-1]["name"] = "../../../etc/passwd"
    path.write_text(json.dumps(manifest))
    assert run(fresh(tmp_path), "restore", str(folder)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"feedsvc: {path}: files:") and "not a known file" in err, err


def test_a_schema_newer_than_the_code_is_refused(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = made
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["database"]["schema_revision"] = "9999_from_the_future"
    path.write_text(json.dumps(manifest))
    assert run(fresh(tmp_path), "restore", str(folder)) == 1
    err = capsys.readouterr().err
    assert "9999_from_the_future, newer than this feedsvc knows" in err, err


def test_restore_onto_existing_state_needs_force(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, folder = made
    key = (root / "var" / "secret_key").read_bytes()
    # A folder with state of its own: a started store and another key.
    config = fresh(tmp_path)
    assert run(config, "share", SEED_ID, "--to", "someone@example.org") == 1  # no release yet
    var = tmp_path / "new" / "var"
    assert (var / "secret_key").read_bytes() != key
    capsys.readouterr()

    assert run(config, "restore", str(folder)) == 1
    err = capsys.readouterr().err
    assert "holds another signing key" in err and "--force" in err, err
    if TEST_DATABASE == "sqlite":
        assert f"{var / 'feedsvc.db'} already holds a database" in err
    assert (var / "secret_key").read_bytes() != key  # untouched

    assert run(config, "restore", str(folder), "--force") == 0
    assert (var / "secret_key").read_bytes() == key
    if TEST_DATABASE == "sqlite":
        assert db_rows(f"sqlite:///{var / 'feedsvc.db'}", "SELECT count(*) FROM shares") == [(1,)]
    # The same backup again is a no-op for the key, still refused for the database.
    capsys.readouterr()
    assert run(config, "restore", str(folder)) == (1 if TEST_DATABASE == "sqlite" else 0)


@pytest.mark.sqlite_only
def test_force_does_not_replace_a_database_another_process_has_open(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = made
    config = fresh(tmp_path)
    assert run(config, "restore", str(folder)) == 0
    database = tmp_path / "new" / "var" / "feedsvc.db"
    # As `feedsvc serve` holds it: WAL mode, a connection open and idle.
    holder = sqlite3.connect(database)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("SELECT count(*) FROM releases").fetchall()
    try:
        capsys.readouterr()
        assert run(config, "restore", str(folder), "--force") == 1
        assert "in use (is feedsvc serve running?)" in capsys.readouterr().err
    finally:
        holder.close()
    assert run(config, "restore", str(folder), "--force") == 0


@pytest.mark.sqlite_only
def test_a_stray_wal_beside_the_target_is_not_replayed_into_the_restored_database(
    made: tuple[Path, Path], tmp_path: Path
) -> None:
    """A -wal file left where the database goes (the old var/ half deleted, another
    database's) would be applied to the restored database by the next connection."""
    _, folder = made
    other = tmp_path / "other.db"
    var = tmp_path / "new" / "var"
    var.mkdir(parents=True)
    conn = sqlite3.connect(other)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # everything stays in the -wal file
        conn.execute("CREATE TABLE shares (id TEXT)")
        conn.executemany("INSERT INTO shares VALUES (?)", [(str(n),) for n in range(500)])
        conn.commit()
        shutil.copy(f"{other}-wal", var / "feedsvc.db-wal")
        shutil.copy(f"{other}-shm", var / "feedsvc.db-shm")
    finally:
        conn.close()
    config = fresh(tmp_path)
    assert run(config, "restore", str(folder)) == 0
    url = f"sqlite:///{var / 'feedsvc.db'}"
    assert db_rows(url, "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(url, "SELECT count(*) FROM shares") == [(1,)]


def test_backup_never_writes_over_a_folder(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, folder = made
    config = root / "config.toml"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert run(config, "backup", str(folder)) == 1
    assert "already there" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Nothing half-made is left beside it either.
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_a_backup_that_cannot_be_written_says_where(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = made
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert run(root / "config.toml", "backup", str(blocker / "backup")) == 1
    assert capsys.readouterr().err == f"feedsvc: {blocker}: not a folder\n"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_backup_and_what_it_restores_are_private(
    tmp_path: Path, loose_umask: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup holds personal data and the key: 0700 and 0600, whatever the umask."""
    config = office(tmp_path / "old")
    assert run(config, "share", SEED_ID, "--to", KEEPER) == 1  # makes the store and the key
    folder = tmp_path / "backups" / "today"
    assert run(config, "backup", str(folder)) == 0
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    assert {p.name: mode(p) for p in folder.iterdir()} == {
        name: 0o600
        for name in ["manifest.json", "secret_key"]
        + (["feedsvc.db"] if TEST_DATABASE == "sqlite" else [])
    }
    config = fresh(tmp_path)
    assert run(config, "restore", str(folder)) == 0
    var = tmp_path / "new" / "var"
    assert mode(var) == 0o700
    assert {p.name: mode(p) for p in var.iterdir()} == {
        name: 0o600
        for name in ["secret_key"] + (["feedsvc.db"] if TEST_DATABASE == "sqlite" else [])
    }


def test_the_manifest_describes_the_snapshot(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = made
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "feedsvc-backup" and manifest["format_version"] == 1
    assert manifest["feedsvc_version"] not in ("", "unknown")
    created = dt.datetime.fromisoformat(manifest["created"])
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    database = manifest["database"]
    assert database["kind"] == TEST_DATABASE
    assert database["schema_revision"]
    assert database["counts"] == {
        "releases": 1,
        "withdrawn": 0,
        "shares": 1,
        "deliveries": 1,
        "suppressions": 0,
    }
    assert manifest["key"] == "file"
    for entry in manifest["files"]:
        assert (folder / entry["name"]).stat().st_size == entry["size"]


# -- PostgreSQL: the key and the advice, never the password -------------------------------------


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="the PostgreSQL path")
def test_on_postgresql_backup_copies_the_key_and_says_to_use_pg_dump_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "Hunter2-never-printed"
    url = new_database_url(tmp_path)
    # The test cluster trusts 127.0.0.1, so any password connects: the URL carries one
    # as a production URL may.
    with_password = url.replace(
        "postgresql+psycopg://feedsvc@", f"postgresql+psycopg://feedsvc:{password}@"
    )
    assert password in with_password
    config = office(tmp_path / "old", database=with_password)
    assert run(config, "build", "--out", str(tmp_path / "public")) == 0
    assert run(config, "share", SEED_ID, "--to", KEEPER) == 0
    capsys.readouterr()
    folder = tmp_path / "backup"
    assert run(config, "backup", str(folder)) == 0
    out, err = capsys.readouterr()
    name = url.rsplit("/", 1)[1]
    assert "pg_dump --format=custom" in out and f"/{name}" in out and "NOT in the backup" in out
    assert password not in out + err
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "secret_key"]
    assert password not in (folder / "manifest.json").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["kind"] == "postgresql"
    assert manifest["database"]["counts"]["shares"] == 1

    # The advice works as printed (the password, were one needed, from PGPASSWORD).
    run_advice(out, "pg_dump")
    assert (folder / "database.pgdump").stat().st_size > 0

    target = new_database_url(tmp_path)
    new = office(tmp_path / "new", database=target)
    assert run(new, "restore", str(folder)) == 0
    out, err = capsys.readouterr()
    assert "pg_restore" in out and password not in out + err
    key = (tmp_path / "old" / "var" / "secret_key").read_bytes()
    assert (tmp_path / "new" / "var" / "secret_key").read_bytes() == key
    run_advice(out, "pg_restore")
    assert db_rows(target, "SELECT count(*) FROM shares") == [(1,)]


def run_advice(out: str, program: str) -> None:
    """Run the command line feedsvc printed for `program`, with the test cluster's tools."""
    [line] = [line.strip() for line in out.splitlines() if line.strip().startswith(program)]
    bin_dir = pg.binaries()
    assert bin_dir is not None
    argv = shlex.split(line)
    done = subprocess.run(
        [str(bin_dir / program), *argv[1:]], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (line, done.stderr)
