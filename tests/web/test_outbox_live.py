"""The outbox in a running `feedsvc serve`: announcements reach real receivers, and a
SIGKILL in the middle of a batch loses nothing."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Answer, Receiver, verify
from tests.conftest import db_rows, newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server, metric, wait_for

SECRET_ENV = "FEEDSVC_TEST_LIVE_HOOK_SECRET"


def config(receiver: Receiver, hubs: bool = True, **outbox: Any) -> dict[str, Any]:
    return {
        "webhooks": [{"url": receiver.url + "hook", "secret_env": SECRET_ENV}],
        "websub": {"hubs": [receiver.url + "hub"] if hubs else []},
        "outbox": {"allow_private_targets": True, "tick_seconds": 0.2, **outbox},
    }


def today() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%B %d, %Y")


def statuses(srv: Server) -> dict[str, int]:
    return dict(
        db_rows(srv.database_url, "SELECT status, count(*) FROM deliveries GROUP BY status")
    )


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = new_secret()
    monkeypatch.setenv(SECRET_ENV, value)  # the service inherits the environment
    return value


def test_a_dropped_release_is_announced_to_webhook_and_hub(tmp_path: Path, secret: str) -> None:
    with Receiver() as receiver:
        # A tick far away: only the wake-up on enqueue can send this in time.
        srv = Server(tmp_path / "office", config(receiver, tick_seconds=60))
        srv.start()
        try:
            time.sleep(0.5)  # the dispatch run at start is over
            srv.write("news.txt", newsroom_text("Big news", today(), ["It happened."]))
            hook = wait_for(
                lambda: [r for r in receiver.requests if r.path == "/hook"], 5, what="webhook"
            )[0]
            event = verify(hook, secret)
            assert (event["type"], event["data"]["title"]) == ("release.published", "Big news")
            wait_for(lambda: len([r for r in receiver.requests if r.path == "/hub"]) == 6, 5)
            topic = srv.base + "/feed.xml"
            assert any(r.form().get("hub.url") == [topic] for r in receiver.requests)
            # Subscribers discover the hub from the feed's headers, as WebSub section 4 says.
            link = srv.get("/feed.xml").headers["Link"]
            assert f'<{receiver.url}hub>; rel="hub"' in link and f'<{topic}>; rel="self"' in link
            wait_for(lambda: statuses(srv) == {"delivered": 7}, 5)
            metrics = srv.metrics()
            assert (
                metric(metrics, "feedsvc_deliveries_total", channel="webhook", outcome="delivered")
                == 1
            )
            assert (
                metric(metrics, "feedsvc_outbox_deliveries", channel="websub", status="delivered")
                == 6
            )
            assert metrics[("feedsvc_webhook_endpoints_disabled", frozenset())] == 0
            # The secret is nowhere in what the service wrote.
            assert secret not in srv.log() and secret not in srv.config.read_text()
        finally:
            assert srv.stop() in CLEAN_EXIT


def test_sigkill_mid_batch_loses_nothing_and_repeats_only_what_was_in_flight(
    tmp_path: Path, secret: str
) -> None:
    total = 40
    with Receiver(default=Answer(status=204, delay=0.05)) as receiver:
        srv = Server(tmp_path / "office", config(receiver, hubs=False, lease_seconds=2))
        for n in range(total):
            srv.write(f"r{n:02}.txt", newsroom_text(f"Release {n}", today(), ["Text."]))
        srv.start()
        wait_for(lambda: len(receiver.requests) >= 10, 10, what="first deliveries")
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        srv.proc = None
        before = len(receiver.requests)
        assert before < total, "the batch ended before the kill: nothing was tested"
        srv.start()
        try:
            wait_for(lambda: statuses(srv) == {"delivered": total}, 20, what="all delivered")
        finally:
            assert srv.stop() in CLEAN_EXIT
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    events = {verify(r, secret)["data"]["id"] for r in receiver.requests}
    assert events == {f"r{n:02}" for n in range(total)}  # none lost
    assert len(set(ids)) == total
    # At most the sends in flight (four side by side) went out twice, with the same id.
    assert len(ids) - total <= 4, len(ids) - total
