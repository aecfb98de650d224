"""mail.max_per_second (issue 16): relays cap senders, so the outbox never sends more
email a second than that, shares and alerts together; and a fan-out of alerts queued
first never makes a share wait behind it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from feedsvc.channels.email import Letterhead
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import settings_from_dict
from feedsvc.model import Delivery, Outgoing
from feedsvc.outbox.dispatcher import Dispatcher, Throttle
from feedsvc.outbox.policy import RetryPolicy
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import make_newsroom


def test_the_throttle_spaces_sends_across_lanes_and_lets_a_stop_through() -> None:
    throttle = Throttle(50)  # a send every 20 ms
    stamps: list[float] = []
    lock = threading.Lock()

    def lane() -> None:
        for _ in range(10):
            assert throttle.wait(None)
            with lock:
                stamps.append(time.monotonic())

    lanes = [threading.Thread(target=lane) for _ in range(3)]
    started = time.monotonic()
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    elapsed = time.monotonic() - started
    assert len(stamps) == 30
    assert elapsed >= 29 * 0.020 * 0.95  # 30 sends are 29 intervals apart, whatever the lanes
    stop = threading.Event()
    slow = Throttle(0.5)  # one send every two seconds
    assert slow.wait(stop)
    stop.set()
    began = time.monotonic()
    assert not slow.wait(stop)  # stopping: given up at once, not after two seconds
    assert time.monotonic() - began < 0.5
    assert Throttle(0).wait(None)  # no cap


class Timed:
    """A channel that notes when each send happened, then (if given one) sends through
    the real channel."""

    def __init__(self, name: str, inner: SmtpChannel | None = None) -> None:
        self.name = name
        self.inner = inner
        self.sent: list[float] = []

    def send(self, delivery: Delivery) -> None:
        self.sent.append(time.monotonic())
        if self.inner is not None:
            self.inner.send(delivery)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


def test_the_cap_holds_for_shares_and_alerts_together_and_shares_go_first(
    tmp_path: Path,
) -> None:
    room = make_newsroom(tmp_path)
    handler = Recorder()
    with smtp_server(handler) as server:
        settings = settings_from_dict(
            {
                "site": {"id_authority": "press.example.org"},
                "mail": {
                    "transport": "smtp",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": server.port,
                    "smtp_security": "none",
                    "max_per_second": 40,
                },
            },
            root=tmp_path,
        )
        now = room.clock.now()
        # A fan-out queued first (its letters are tested in test_alert_channel.py; here
        # only the order and the pace count), then a share.
        alerts = [
            Outgoing("alert", f"{n:032x}", {"kind": "release"}, f"alert r {n}") for n in range(60)
        ]
        room.store.outbox.enqueue(alerts, now)
        share = {"to": "friend@example.org", "subject": "A release", "text": "Hi"}
        later = now + dt.timedelta(seconds=1)
        room.store.outbox.enqueue([Outgoing("email", share["to"], share, "share 1")], later)
        email = Timed("email", SmtpChannel(settings.mail, Letterhead.of(settings)))
        alert = Timed("alert")
        send = Dispatcher(
            room.store.outbox,
            {"email": email, "alert": alert},
            room.clock,
            policy=RetryPolicy(jitter=0),
            batch=20,
            lanes={"email": 1, "alert": 2},
            max_per_second=settings.mail.max_per_second,
        )
        room.clock.advance(seconds=2)
        report = send.run()
    assert report.count("delivered") == 61
    assert [r.rcpt_tos for r in handler.received] == [["friend@example.org"]]
    stamps = sorted(email.sent + alert.sent)
    # 61 sends at most 40 a second, whichever channel: 60 gaps of 25 ms at the least.
    assert stamps[-1] - stamps[0] >= 60 / 40 * 0.95
    # The share, queued after the 60 alerts, went in the first claim of 20, not last.
    assert email.sent[0] <= sorted(alert.sent)[19]
