"""Another process holds SQLite's write lock while `feedsvc serve` runs.

feedsvc waits for the lock up to SQLite's busy_timeout (5 s, store.connector); its
own writers queue behind one another in the process first (store.connector.writing). Within
the timeout, a release dropped and a share posted during the hold wait and succeed.
Beyond it, the writer waiting on SQLite gives up (here the share, posted first) and the
ones queued behind it get through once the lock is gone: the release is published, and
the share must be answered as a temporary failure is (503 with Retry-After and a JSON
error, or accepted late), not with a bare 500, and never be half stored.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import SEED, SEED_ID, db_rows, newsroom_text
from tests.faults.live import SHARE_RULES, SHARE_TIMEOUT, post_share, today, visible
from tests.web.conftest import CLEAN_EXIT, Server

pytestmark = pytest.mark.sqlite_only

BUSY_TIMEOUT = 5.0
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")  # the write lock, as another writer takes it
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
print("released", flush=True)
"""


class WriteLock:
    """Another process holding the database's write lock for `seconds`."""

    def __init__(self, database: Path, seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(database), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "locked\n"
        self.since = time.monotonic()

    def held_for(self) -> float:
        return time.monotonic() - self.since

    def wait(self) -> float:
        """Wait for the release; the seconds the lock was held."""
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "released\n"
        self.proc.wait()
        return self.held_for()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    # No periodic scan or dispatch during a test: the writers that wait for the lock are
    # the ones the test starts (a share, and the scan the file watcher wakes).
    server = Server(
        tmp_path / "office",
        {"items": {"scan_seconds": 60}, "outbox": {"tick_seconds": 60}, "share": SHARE_RULES},
    )
    shutil.copy(SEED, server.items / SEED.name)
    server.start(ready=lambda s: visible(s, SEED_ID))
    yield server
    server.kill()


def post_json(srv: Server, body: dict) -> tuple[requests.Response, float]:
    """POST api/shares: the answer, and the seconds it took."""
    started = time.monotonic()
    r = srv.http.post(srv.base + "/api/shares", json=body, timeout=SHARE_TIMEOUT)
    return r, time.monotonic() - started


def healthy_at_once(srv: Server) -> None:
    started = time.monotonic()
    assert srv.get("/healthz").status_code == 200
    assert time.monotonic() - started < 1.0, "/healthz waited for the write lock"


def shares(srv: Server) -> int:
    [(count,)] = db_rows(srv.database_url, "SELECT count(*) FROM shares")
    return count


def test_a_lock_shorter_than_the_busy_timeout_only_delays_the_writes(srv: Server) -> None:
    lock = WriteLock(srv.root / "var" / "feedsvc.db", 3.0)
    try:
        srv.write("during.txt", newsroom_text("Written during the lock", today(), ["Text."]))
        healthy_at_once(srv)
        assert srv.get("/feed.xml").status_code == 200  # reading goes on
        r = post_share(srv, SEED_ID, ["friend@example.org"])
        assert r.status_code == 202, r.text
        assert lock.held_for() >= 2.5, "the share did not wait for the lock"
        held = lock.wait()
    finally:
        lock.kill()
    visible(srv, "during", timeout=5)
    assert held < BUSY_TIMEOUT
    assert shares(srv) == 1
    healthy_at_once(srv)
    assert "database is locked" not in srv.log()
    assert srv.stop() in CLEAN_EXIT


def test_a_lock_longer_than_the_busy_timeout_loses_nothing(srv: Server) -> None:
    token = srv.http.get(
        srv.base + "/api/shares/token", params={"release": SEED_ID}, timeout=5
    ).json()["token"]
    share = {"release": SEED_ID, "to": ["friend@example.org"], "token": token}
    lock = WriteLock(srv.root / "var" / "feedsvc.db", BUSY_TIMEOUT + 1.5)
    try:
        with ThreadPoolExecutor(1) as pool:
            # The share is the first to wait for the lock; the scan of a file dropped
            # meanwhile queues behind it.
            posted = pool.submit(post_json, srv, share)
            time.sleep(0.5)
            srv.write("during.txt", newsroom_text("Written during the lock", today(), ["Text."]))
            healthy_at_once(srv)
            during, waited = posted.result()
        lock.wait()
    finally:
        lock.kill()
    # Nothing lost: the release is published by a scan once the lock is gone ...
    visible(srv, "during", timeout=5)
    healthy_at_once(srv)
    # ... and a share refused for the lock is not half stored: sent again with the same
    # form token (its nonce was not spent), it is accepted, once.
    if during.status_code != 202:
        assert shares(srv) == 0
        again, _ = post_json(srv, share)
        assert again.status_code == 202, again.text
    assert shares(srv) == 1
    [(emails,)] = db_rows(srv.database_url, "SELECT count(*) FROM deliveries")
    assert emails == 1
    # The share was answered as the API answers a temporary refusal, not with a bare 500.
    assert during.status_code in (202, 503), (
        f"a share during a {BUSY_TIMEOUT + 1.5} s lock: {during.status_code} "
        f"{during.headers.get('content-type')} {during.text!r} after {waited:.1f} s"
    )
    if during.status_code == 503:
        assert int(during.headers["Retry-After"]) >= 1
        assert during.json()["error"]
    # Every answer is in the access log (flushed twice a second).
    time.sleep(0.6)
    assert srv.access_log().count('"path":"/api/shares"') == 1 + (during.status_code != 202)
    assert srv.stop(clean_log=False) in CLEAN_EXIT
