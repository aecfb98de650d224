"""Three `feedsvc serve` on one PostgreSQL: shares posted across them are each emailed
exactly once, and a SIGKILLed instance loses nothing."""

from __future__ import annotations

import collections
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests import pg
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import SEED, SEED_ID, TEST_DATABASE, db_rows
from tests.web.conftest import CLEAN_EXIT, Server, metric, wait_for

# PostgreSQL only, and once: in the run of the suite on PostgreSQL.
pytestmark = pytest.mark.skipif(
    TEST_DATABASE != "postgresql", reason="several instances need PostgreSQL"
)
UNLIMITED = 10**6


@pytest.fixture
def sink() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    with smtp_server(handler) as server:
        yield handler, server.port


def instances(tmp_path: Path, port: int, n: int = 3) -> list[Server]:
    url = pg.fresh_database()
    items = tmp_path / "items"
    items.mkdir()
    shutil.copy(SEED, items / SEED.name)
    config = {
        "database": {"url": url},
        "items": {"dir": str(items), "scan_seconds": 1},
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
        },
        "outbox": {"tick_seconds": 0.2, "lease_seconds": 3},
        "share": {
            "min_fill_seconds": 0,
            "per_ip_per_hour": UNLIMITED,
            "per_recipient_per_day": UNLIMITED,
            "per_sender_per_day": UNLIMITED,
            "global_per_hour": UNLIMITED,
        },
        "server": {"access_log": False},
    }
    servers = [Server(tmp_path / f"instance{k}", config) for k in range(n)]
    for server in servers:
        server.start()
    # Every instance serves the seed, whichever one leads.
    for server in servers:
        wait_for(lambda s=server: s.get(f"/releases/{SEED_ID}/").status_code == 200, 15)
    return servers


def share(servers: list[Server], n: int, first: int = 0) -> list[str]:
    """Post shares n (numbered from `first`) round-robin to the instances still running;
    returns the recipients whose share was accepted (202)."""
    sessions = {id(s): requests.Session() for s in servers}

    def one(k: int) -> str | None:
        for attempt in range(len(servers)):
            server = servers[(k + attempt) % len(servers)]
            if server.proc is None:
                continue
            http = sessions[id(server)]
            try:
                token = http.get(
                    f"{server.base}/api/shares/token", params={"release": SEED_ID}, timeout=5
                ).json()["token"]
                to = f"reader{first + k}@example.org"
                answer = http.post(
                    f"{server.base}/api/shares",
                    json={"release": SEED_ID, "to": [to], "token": token},
                    timeout=10,
                )
            except requests.ConnectionError:
                continue  # killed meanwhile: another instance takes it
            assert answer.status_code == 202, answer.text
            return to
        raise AssertionError("no instance took the share")

    with ThreadPoolExecutor(6) as pool:
        return [to for to in pool.map(one, range(n)) if to]


def delivered(url: str) -> int:
    [(n,)] = db_rows(url, "SELECT count(*) FROM deliveries WHERE status = 'delivered'")
    return n


def test_three_instances_send_each_share_exactly_once(
    tmp_path: Path, sink: tuple[Recorder, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = sink
    monkeypatch.setenv("FEEDSVC_SECRET_KEY", "k" * 48)  # one key for every instance
    servers = instances(tmp_path, port)
    try:
        leaders = [s for s in servers if "leading:" in s.log()]
        assert len(leaders) == 1, [s.log()[-500:] for s in servers]
        sent = share(servers, 2000)
        url = servers[0].database_url
        wait_for(lambda: delivered(url) == 2000, 60, what="2,000 deliveries")
        wait_for(lambda: len(handler.received) >= 2000, 10)
        time.sleep(1)  # nothing more arrives
        per_id = collections.Counter(r.message["Message-ID"] for r in handler.received)
        assert len(per_id) == 2000 and set(per_id.values()) == {1}
        assert {r.rcpt_tos[0] for r in handler.received} == set(sent)
        # Every instance took part in sending (SKIP LOCKED shares the work out).
        for server in servers:
            sent_here = metric(
                server.metrics(), "feedsvc_deliveries_total", channel="email", outcome="delivered"
            )
            assert sent_here > 0, server.base
    finally:
        for server in servers:
            if server.proc is not None:
                assert server.stop() in CLEAN_EXIT


def test_an_instance_killed_mid_run_loses_nothing(
    tmp_path: Path, sink: tuple[Recorder, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = sink
    monkeypatch.setenv("FEEDSVC_SECRET_KEY", "k" * 48)
    servers = instances(tmp_path, port)
    victim = next(s for s in servers if "leading:" in s.log())  # the leader, the harder case
    try:
        sent = share(servers, 600)
        wait_for(lambda: len(handler.received) >= 100, 20, what="the first emails")
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        victim.proc = None
        sent += share(servers, 600, first=600)
        url = servers[0].database_url
        wait_for(lambda: delivered(url) == 1200, 60, what="1,200 deliveries")
        time.sleep(1)
        per_id = collections.Counter(r.message["Message-ID"] for r in handler.received)
        assert len(per_id) == 1200  # none lost
        assert {r.rcpt_tos[0] for r in handler.received} == set(sent)
        # Repeats only for what the killed instance had in flight (two SMTP lanes), each
        # with its Message-ID unchanged.
        assert sum(n - 1 for n in per_id.values()) <= 2
        # Another instance took the lead and still publishes.
        survivors = [s for s in servers if s.proc is not None]
        wait_for(lambda: any("leading:" in s.log() for s in survivors), 10, what="a new leader")
    finally:
        for server in servers:
            if server.proc is not None:
                assert server.stop() in CLEAN_EXIT


def test_limits_and_single_use_tokens_hold_across_instances(
    tmp_path: Path, sink: tuple[Recorder, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = sink
    monkeypatch.setenv("FEEDSVC_SECRET_KEY", "k" * 48)
    servers = instances(tmp_path, port)
    # The instances' own limits: 10 shares an hour from one address, counted in the database.
    for server in servers:
        server.stop()
    for server in servers:
        text = server.config.read_text().replace(
            f"per_ip_per_hour = {UNLIMITED}", "per_ip_per_hour = 10"
        )
        server.config.write_text(text)
        server.start()
    try:
        http = requests.Session()
        token = http.get(
            f"{servers[0].base}/api/shares/token", params={"release": SEED_ID}, timeout=5
        ).json()["token"]
        body = {"release": SEED_ID, "to": ["once@example.org"], "token": token}
        assert http.post(f"{servers[0].base}/api/shares", json=body, timeout=5).status_code == 202
        # The same token at another instance: already spent.
        again = http.post(f"{servers[1].base}/api/shares", json=body, timeout=5)
        assert again.status_code == 400
        answers = []
        for k in range(14):
            server = servers[k % 3]
            token = http.get(
                f"{server.base}/api/shares/token", params={"release": SEED_ID}, timeout=5
            ).json()["token"]
            body = {"release": SEED_ID, "to": [f"r{k}@example.org"], "token": token}
            answers.append(http.post(f"{server.base}/api/shares", json=body, timeout=5))
        # One address, three instances: 10 in the hour all told (the first one included).
        assert [a.status_code for a in answers].count(202) == 9
        assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)
    finally:
        for server in servers:
            if server.proc is not None:
                assert server.stop() in CLEAN_EXIT
