"""The database goes away while `feedsvc serve` runs, then comes back (issue 11, item 13).

Observed before: the feeds kept coming from the cache and shares waited in the outbox, but
the share API's token answered 500 and the log filled with a traceback per request. Now a
route that needs the database answers 503 with Retry-After (JSON under api/, a page
otherwise), the outage is one log line a minute, and what was accepted before it is
delivered once after it.

- PostgreSQL: a cluster of the test's own (not the run's shared one) is stopped and started
  again on the same port. Everything that reads or writes fails; /healthz says 503.
- SQLite: the database file, its -wal and its folder are made immutable (`chattr +i`: the
  tests run as root, whom permissions do not stop). Every write fails ("disk I/O error" on
  an open connection, "attempt to write a readonly database" on a new one) while reads go
  on: pages and the form still render, what writes answers 503. The -shm file is left
  alone: SQLite maps it into memory, and writing to an immutable mapping kills the process
  (SIGBUS).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from feedsvc.sharing.keys import Signer, address_hash
from feedsvc.store.outage import OutageLog, is_unreachable, reason
from tests import pg
from tests.conftest import db_rows, newsroom_text
from tests.faults.live import SHARE_RULES, today
from tests.web.conftest import CLEAN_EXIT, Server, free_port, wait_for

TICK = 10.0  # outbox.tick_seconds: no dispatch between the first share and the outage
OUTAGE_SECONDS = 2.5  # at least: the scan job (every second) meets it
RELEASES = ("a", "b", "c", "d")
BEFORE, AFTER = "before@example.org", "after@example.org"

# -- telling an outage from a defect, in process ------------------------------------------------


def test_driver_errors_of_an_outage_are_told_from_defects(tmp_path: Path) -> None:
    refused = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    with pytest.raises(OperationalError) as down:
        refused.connect()
    assert is_unreachable(down.value)
    assert "Connection refused" in reason(down.value)
    assert "\n" not in reason(down.value)

    path = tmp_path / "x.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(OperationalError) as unwritable, read_only.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert is_unreachable(unwritable.value)
    assert reason(unwritable.value) == "attempt to write a readonly database"

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError) as duplicate, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(OperationalError) as no_table, engine.begin() as conn:
        conn.execute(text("SELECT * FROM nowhere"))
    assert not is_unreachable(duplicate.value)
    assert not is_unreachable(no_table.value)  # an OperationalError, and a defect
    assert not is_unreachable(ValueError("no database here"))
    # Wrapped by the code that met it, it is still an outage.
    try:
        raise RuntimeError("the scan failed") from down.value
    except RuntimeError as wrapped:
        assert is_unreachable(wrapped)
        assert reason(wrapped) == reason(down.value)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        assert record.exc_info is None
        self.lines.append(record.getMessage())


def test_an_outage_is_one_line_a_minute_and_its_end_one_more() -> None:
    now = [1000.0]
    logger = logging.getLogger("tests.outage")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        outages = OutageLog(logger, every=60.0, clock=lambda: now[0])
        error = sqlite3.OperationalError("disk I/O error")
        outages.succeeded("scan")  # nothing failed: nothing to say
        for _ in range(5):
            outages.failed(error, "answering 503")
            now[0] += 10
        outages.failed(error, "job scan tries again at its next tick", job="scan")
        now[0] += 10
        outages.failed(error, "answering 503")
        assert handler.lines == [
            "database unreachable: disk I/O error; answering 503",
            "database unreachable: disk I/O error; answering 503 (5 more failures since the"
            " last line)",
        ]
        now[0] += 5
        outages.succeeded("dispatch")  # had not failed: says nothing of the database
        outages.succeeded("scan")
        outages.succeeded("scan")
        assert handler.lines[2:] == ["database reachable again after 65 s"]
        outages.failed(error, "answering 503")  # a new outage is told at once
        assert len(handler.lines) == 4
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


# -- a real server --------------------------------------------------------------------------


class Cluster(pg.Cluster):
    """A cluster of this test's own, which it stops and starts again on the same port."""

    def pause(self) -> None:
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        self._run("pg_ctl", "stop", "-w", "-D", self.data, "-m", "fast")

    def resume(self) -> None:
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-c unix_socket_directories={self.folder}",
            *(f"-c {name}={value}" for name, value in pg.SERVER_SETTINGS.items()),
        ]
        start = ("start", "-w", "-t", str(pg.START_TIMEOUT), "-D", self.data, "-l", self.log)
        self._run("pg_ctl", *start, "-o", " ".join(options))


@dataclass
class Database:
    url: str
    down: Callable[[], None]
    up: Callable[[], None]
    reads_fail: bool  # PostgreSQL gone: reads fail too; SQLite immutable: only writes


@pytest.fixture
def postgresql() -> Iterator[Callable[[Path], Database]]:
    found = pg.binaries()
    if found is None:
        if os.environ.get(pg.REQUIRE_ENV) == "1":
            pytest.fail(f"PostgreSQL is not installed ({pg.REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    cluster = Cluster(found)
    try:
        cluster.start()
        assert cluster.admin is not None
        cluster.admin.execute("CREATE DATABASE feedsvc")
        url = cluster.url("feedsvc", driver="postgresql+psycopg")
        yield lambda _root: Database(url, cluster.pause, cluster.resume, reads_fail=True)
    finally:
        cluster.stop()


@pytest.fixture
def sqlite() -> Iterator[Callable[[Path], Database]]:
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here (e2fsprogs)")
    frozen: list[Path] = []

    def chattr(flag: str, path: Path) -> None:
        done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr {flag} is refused here: {done.stderr.strip()}")

    def database(root: Path) -> Database:
        var = root / "var"
        targets = [var / "feedsvc.db", var / "feedsvc.db-wal", var]

        def down() -> None:
            for path in targets:
                chattr("+i", path)
                frozen.append(path)

        def up() -> None:
            while frozen:
                chattr("-i", frozen.pop())

        return Database(f"sqlite:///{var / 'feedsvc.db'}", down, up, reads_fail=False)

    yield database
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite_only),
        pytest.param("postgresql"),
    ]
)
def database(request: pytest.FixtureRequest) -> Callable[[Path], Database]:
    return request.getfixturevalue(request.param)


def token(srv: Server, release: str) -> requests.Response:
    return srv.http.get(srv.base + "/api/shares/token", params={"release": release}, timeout=10)


def post_api(srv: Server, release: str, form_token: str, to: str) -> requests.Response:
    body = {"release": release, "to": [to], "token": form_token}
    return srv.http.post(
        srv.base + "/api/shares",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=15,
    )


def mail(srv: Server) -> list[str]:
    """The recipient of every message in the maildir."""
    new = srv.root / "mail" / "new"
    if not new.is_dir():
        return []
    return sorted(message_from_bytes(p.read_bytes())["To"] for p in new.iterdir())


def test_a_database_outage_answers_503_and_loses_nothing(
    tmp_path: Path, database: Callable[[Path], Database]
) -> None:
    root = tmp_path / "office"
    db = database(root)
    srv = Server(
        root,
        {
            "database": {"url": db.url},
            "outbox": {"tick_seconds": TICK},
            "mail": {"maildir": "mail"},
            "share": SHARE_RULES,
        },
    )
    for rid in RELEASES:
        srv.write(f"{rid}.txt", newsroom_text(f"Release {rid}", today(), ["Text."]))
    srv.start(
        ready=lambda s: wait_for(
            lambda: all(f"/releases/{rid}/" in s.get("/feed.xml").text for rid in RELEASES),
            10,
            what="every release in the feed",
        )
    )
    try:
        # Before: one share accepted (its email waits for the next dispatch tick), form
        # tokens for the posts made during the outage, and an unsubscribe link.
        first = post_api(srv, "a", token(srv, "a").json()["token"], BEFORE)
        assert first.status_code == 202, first.text
        share_id = first.json()["id"]
        api_token = token(srv, "b").json()["token"]
        form_token = token(srv, "c").json()["token"]
        signer = Signer((root / "var" / "secret_key").read_bytes().strip())
        leave = signer.sign("unsubscribe", address_hash(signer, BEFORE))
        assert db_rows(db.url, "SELECT status, attempts FROM deliveries") == [("pending", 0)]

        db.down()
        down = time.monotonic()
        try:
            answers = {}
            for _ in range(3):  # an outage is one line a minute, however many requests
                answers = {
                    "POST api/shares": post_api(srv, "b", api_token, AFTER),
                    "POST form": srv.http.post(
                        srv.base + "/releases/c/share",
                        data={"to": AFTER, "token": form_token},
                        timeout=15,
                        allow_redirects=False,
                    ),
                    "click": srv.get(f"/s/{share_id}"),
                    "POST unsubscribe": srv.http.post(
                        srv.base + "/unsubscribe", params={"t": leave}, timeout=15
                    ),
                    "token": token(srv, "d"),
                    "form": srv.get("/releases/d/share"),
                    "sent": srv.get(f"/shares/{share_id}/"),
                    "cold release page": srv.get("/releases/d/"),
                    "cold sitemap": srv.get("/sitemap.xml"),
                    "metrics": srv.get("/metrics"),  # its gauges count rows
                }
            writes = {"POST api/shares", "POST form", "click", "POST unsubscribe"}
            for name, r in answers.items():
                expected = 503 if db.reads_fail or name in writes else 200
                assert r.status_code == expected, (name, r.status_code, r.text[:300])
                if r.status_code == 503:
                    assert int(r.headers["Retry-After"]) >= 1, name
                    assert r.headers["Cache-Control"] == "no-store", name
                    if name in ("POST api/shares", "token"):
                        assert r.headers["Content-Type"] == "application/json"
                        assert r.json()["error"], name
                    else:
                        assert r.headers["Content-Type"] == "text/html; charset=utf-8", name
                        assert "<html" in r.text, name
            # Needs no database: the feeds, the API description, the unsubscribe question.
            assert srv.get("/feed.xml").status_code == 200
            assert srv.get("/api/openapi.json").status_code == 200
            assert srv.get(f"/unsubscribe?t={leave}").status_code == 200
            if db.reads_fail:
                assert srv.get("/healthz").status_code == 503
            # The scan ticks every second: an outage this long fails it too, quietly.
            time.sleep(max(0.0, down + OUTAGE_SECONDS - time.monotonic()))
        finally:
            db.up()

        wait_for(lambda: srv.get("/healthz").status_code == 200, 20, what="healthy again")
        # Refused during the outage, nothing was stored: the same form token goes through.
        again = post_api(srv, "b", api_token, AFTER)
        assert again.status_code == 202, again.text
        wait_for(lambda: len(mail(srv)) >= 2, 3 * TICK, what="both emails")
    finally:
        rc = srv.stop(clean_log=False)
    assert rc in CLEAN_EXIT
    assert mail(srv) == [AFTER, BEFORE]
    assert db_rows(db.url, "SELECT status, attempts FROM deliveries ORDER BY id") == [
        ("delivered", 1),
        ("delivered", 1),
    ]
    assert db_rows(db.url, "SELECT count(*) FROM shares") == [(2,)]
    assert db_rows(db.url, "SELECT clicks FROM shares WHERE id = :id", id=share_id) == [(0,)]
    log = srv.log()
    assert "Traceback" not in log, log
    outage = [line for line in log.splitlines() if "database unreachable" in line]
    assert len(outage) == 1, log
    assert json.loads(outage[0])["level"] == "warning"
    assert log.count("database reachable again") <= 1, log
    if db.reads_fail:
        assert "Connection refused" in outage[0] or "terminating connection" in outage[0]
        assert log.count("database reachable again") == 1  # the jobs failed, and said so
    else:
        assert "disk I/O error" in outage[0] or "readonly database" in outage[0], outage
    # Every answer is in the access log: 503s included.
    statuses = [json.loads(line)["status"] for line in srv.access_log().splitlines()]
    assert 500 not in statuses and statuses.count(503) >= 3 * 4
