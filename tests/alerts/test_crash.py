"""SIGKILL in the middle of a fan-out, then in the middle of sending it (issue 16): the
release and its alerts commit together or not at all, and once restarted every confirmed
subscriber gets the release exactly once (only a message in flight at the kill may arrive
twice, with the same Message-ID, which receivers drop)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import insert

from feedsvc.store import Store
from feedsvc.store.schema import subscribers
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import db_rows, new_database_url
from tests.web.conftest import wait_for

FAN_OUT = 60_000  # a commit long enough (~0.1 s of WAL writing) to be killed in
SENT = 1_500
RELEASE = (
    '+++\ntitle = "Flu season"\nsection = "Health"\ndate = {date}\n+++\n\n'
    "The ministry said things of note.\n"
)


class SlowRecorder(Recorder):
    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.004)  # a relay's pace: time to kill the sender mid-way
        return await super().handle_DATA(server, session, envelope)


def confirmed(url: str, n: int) -> list[str]:
    """n confirmed immediate subscribers, half of them following the release's section."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ids = [secrets.token_hex(16) for _ in range(n)]
    rows = [
        {
            "id": sid,
            "address_hash": f"{i:064x}",
            "address": f"reader{i}@example.org",
            "frequency": "immediate",
            "sections": None if i % 2 else json.dumps(["health"]),
            "status": "confirmed",
            "created_at": now,
            "confirmed_at": now,
            "consent_at": now,
            "consent_basis": "double-opt-in",
            "hard_bounces": 0,
            "soft_bounces": 0,
            "updated_at": now,
        }
        for i, sid in enumerate(ids)
    ]
    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(subscribers), rows)
    finally:
        store.close()
    return ids


def counts(url: str) -> tuple[int, int]:
    """(releases published, alert deliveries stored)."""
    [(published,)] = db_rows(url, "SELECT count(*) FROM releases WHERE seq IS NOT NULL")
    [(alerts,)] = db_rows(url, "SELECT count(*) FROM deliveries WHERE channel = 'alert'")
    return published, alerts


def config(tmp_path: Path, url: str, smtp_port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[site]
id_authority = "press.example.org"
base_url = "https://press.example.org/"

[database]
url = "{url}"

[mail]
transport = "smtp"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
smtp_security = "none"

[outbox]
lease_seconds = 1
batch = 200
"""
    )
    (tmp_path / "items").mkdir()
    return path


def build(tmp_path: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "feedsvc", "build", "--config", str(path)]


def test_sigkill_in_the_fan_out_keeps_the_release_and_its_alerts_together(
    tmp_path: Path,
) -> None:
    url = new_database_url(tmp_path)
    path = config(tmp_path, url, 25)  # nothing is sent here
    Store.open(url).close()  # the schema, before the subscribers go in
    confirmed(url, FAN_OUT)
    date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (tmp_path / "items" / "flu.md").write_text(RELEASE.format(date=date))
    # Killed while the publication and its alerts are being written (on PostgreSQL, at
    # about the time of the fan-out: either outcome must be whole).
    first = subprocess.Popen(build(tmp_path, path), cwd=tmp_path, stdout=subprocess.DEVNULL)
    wal = Path(url.removeprefix("sqlite:///") + "-wal")
    if url.startswith("sqlite"):
        # The commit writes the transaction's pages into the WAL; readers see none of
        # it until its last frame: killed at 4 MB, it is half written.
        wal_grew = lambda: wal.exists() and wal.stat().st_size > 4 << 20  # noqa: E731
        wait_for(wal_grew, 60, interval=0.002, what="the WAL")
    else:
        time.sleep(2.0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    published, queued = counts(url)
    assert (published, queued) in ((0, 0), (1, FAN_OUT)), "half a publication"
    if url.startswith("sqlite"):
        assert published == 0, "killed after the commit: nothing was tested"
    # Run again: the release is published with every alert, once.
    done = subprocess.run(
        build(tmp_path, path), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert counts(url) == (1, FAN_OUT)
    keys = db_rows(url, "SELECT count(DISTINCT target) FROM deliveries WHERE channel = 'alert'")
    assert keys == [(FAN_OUT,)]


def test_sigkill_while_sending_alerts_then_restart_sends_each_once(tmp_path: Path) -> None:
    url = new_database_url(tmp_path)
    handler = SlowRecorder()
    with smtp_server(handler) as server:
        path = config(tmp_path, url, server.port)
        Store.open(url).close()
        confirmed(url, SENT)
        date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        (tmp_path / "items" / "flu.md").write_text(RELEASE.format(date=date))
        done = subprocess.run(build(tmp_path, path), cwd=tmp_path, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        dispatch = [sys.executable, "-m", "feedsvc", "outbox", "dispatch", "--config", str(path)]
        sender = subprocess.Popen(dispatch, cwd=tmp_path, stdout=subprocess.DEVNULL)
        wait_for(lambda: len(handler.received) >= 200, 60, what="the first alerts")
        sender.send_signal(signal.SIGKILL)
        sender.wait()
        assert len(handler.received) < SENT, "sent before the kill: nothing was tested"
        time.sleep(1.1)  # the dead dispatcher's leases run out
        again = subprocess.run(dispatch, cwd=tmp_path, capture_output=True, timeout=300)
        assert again.returncode == 0, again.stderr
    rcpts = [r.rcpt_tos[0] for r in handler.received]
    assert set(rcpts) == {f"reader{i}@example.org" for i in range(SENT)}
    assert len({r.message["Message-ID"] for r in handler.received}) == SENT
    assert len(rcpts) - SENT <= 2  # at most the one in flight on each SMTP lane
    # VERP: every alert goes out with its subscriber's own return path.
    assert len({r.mail_from for r in handler.received}) == SENT
    assert all(r.mail_from.startswith("bounces+") for r in handler.received)
