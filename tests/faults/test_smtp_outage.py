"""The SMTP relay goes down while `feedsvc serve` runs, then comes back on the same port:
every email queued meanwhile is delivered, once.

The retry schedule waits 5 s (with up to 10 % jitter) after a first failed attempt and
5 minutes after a second. The outage is made to end inside that first wait: every email
fails once (connection refused), is retried about 5 s later, and goes out. A longer
outage would wait 5 minutes for the third attempt (`feedsvc outbox retry ID` brings a
waiting delivery forward).
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.channels.smtp_server import Recorder
from tests.conftest import SEED, SEED_ID, db_rows
from tests.faults.live import SHARE_RULES, post_share, visible
from tests.web.conftest import CLEAN_EXIT, Server, free_port, metric, wait_for

FIRST_RETRY = 5.0 * 0.9  # the earliest the second attempt can come (policy.DEFAULT_DELAYS)


def relay(handler: Recorder, port: int) -> Controller:
    """A real SMTP server on a fixed port of 127.0.0.1, so it can come back on it."""
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def emails(srv: Server) -> list[tuple[str, int, str | None]]:
    return db_rows(
        srv.database_url,
        "SELECT status, attempts, last_error FROM deliveries WHERE channel = 'email' ORDER BY id",
    )


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    port = free_port()
    srv = Server(
        tmp_path / "office",
        {
            "mail": {
                "transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": "none",
                "smtp_timeout_seconds": 5,
            },
            "outbox": {"tick_seconds": 0.2},
            "share": SHARE_RULES,
        },
    )
    shutil.copy(SEED, srv.items / SEED.name)
    yield srv, port
    srv.kill()  # if the test failed before stopping it


def test_mail_queued_while_the_relay_is_down_is_delivered_once_when_it_is_back(
    office: tuple[Server, int],
) -> None:
    srv, port = office
    handler = Recorder()
    controller: Controller | None = relay(handler, port)
    srv.start(ready=lambda s: visible(s, SEED_ID))
    try:
        # The relay works: a first share goes out at once.
        assert post_share(srv, SEED_ID, ["before@example.org"]).status_code == 202
        wait_for(lambda: len(handler.received) == 1, 5, what="the first email")

        controller.stop()
        controller = None
        assert refused(port)
        down = time.monotonic()
        friends = [[f"friend{n}a@example.org", f"friend{n}b@example.org"] for n in range(5)]
        for to in friends:
            r = post_share(srv, SEED_ID, to)
            assert r.status_code == 202, r.text  # accepted: the outbox keeps it
        queued = 2 * len(friends)

        # Each email is tried at once and fails; it waits for its retry.
        def all_failed_once() -> bool:
            rows = emails(srv)[1:]
            return len(rows) == queued and all(error for _, _, error in rows)

        wait_for(all_failed_once, 5, what="a failed first attempt of every email")
        for status, attempts, error in emails(srv)[1:]:
            assert (status, attempts) == ("pending", 1)
            assert f"SMTP 127.0.0.1:{port}" in error and "Connection refused" in error, error
        metrics = srv.metrics()
        assert metric(metrics, "feedsvc_deliveries_total", channel="email", outcome="retry") == (
            queued
        )
        assert (
            metric(metrics, "feedsvc_outbox_deliveries", channel="email", status="pending")
            == queued
        )
        assert time.monotonic() - down < FIRST_RETRY, "too slow: the retries may have begun"

        # Back on the same port before the first retry falls due.
        controller = relay(handler, port)
        wait_for(
            lambda: [s for s, _, _ in emails(srv)] == ["delivered"] * (queued + 1),
            10,
            what="every email delivered",
        )
    finally:
        if controller is not None:
            controller.stop()
        assert srv.stop() in CLEAN_EXIT
    assert [attempts for _, attempts, _ in emails(srv)] == [1] + [2] * queued
    # Each recipient got exactly one message, each with a Message-ID of its own.
    recipients = sorted(r for m in handler.received for r in m.rcpt_tos)
    assert recipients == sorted(["before@example.org", *(a for to in friends for a in to)])
    assert len({m.message["Message-ID"] for m in handler.received}) == queued + 1
    history = db_rows(
        srv.database_url,
        "SELECT a.delivery_id, a.outcome FROM delivery_attempts a"
        " JOIN deliveries d ON d.id = a.delivery_id WHERE d.channel = 'email'"
        " ORDER BY a.delivery_id, a.number",
    )
    outcomes: dict[int, list[str]] = {}
    for delivery_id, outcome in history:
        outcomes.setdefault(delivery_id, []).append(outcome)
    assert sorted(outcomes.values()) == sorted([["delivered"]] + [["retry", "delivered"]] * queued)
