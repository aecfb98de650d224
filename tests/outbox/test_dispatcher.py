"""The dispatcher against real receivers: an HTTP server and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.announce import Announcer
from feedsvc.channels import Channel
from feedsvc.channels.email import Letterhead
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import Settings, settings_from_dict
from feedsvc.model import Delivery, Outgoing
from feedsvc.outbox.dispatcher import Dispatcher
from feedsvc.outbox.policy import RetryPolicy
from feedsvc.service import channels
from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Receiver, verify
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import BASE_URL, Newsroom, make_newsroom

SECRET_ENV = "FEEDSVC_TEST_HOOK_SECRET"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = new_secret()
    monkeypatch.setenv(SECRET_ENV, value)
    return value


def office(tmp_path: Path, receiver: Receiver, **extra: Any) -> tuple[Newsroom, Settings]:
    room = make_newsroom(tmp_path)
    raw: dict[str, Any] = {
        "site": {"base_url": BASE_URL, "id_authority": "press.example.org"},
        "webhooks": [{"url": receiver.url + "hook", "secret_env": SECRET_ENV}],
        "websub": {"hubs": [receiver.url + "hub"]},
        "outbox": {"allow_private_targets": True, "webhook_timeout_seconds": 2},
        "mail": {"maildir": "var/mail"},
    }
    for name, values in extra.items():
        raw.setdefault(name, {}).update(values)
    settings = settings_from_dict(raw, root=tmp_path)
    room.store.announce = Announcer(
        site=settings.site,
        webhooks=settings.webhooks,
        websub=settings.websub,
        outbox=settings.outbox,
    )
    return room, settings


def dispatcher(room: Newsroom, settings: Settings, **kwargs: Any) -> Dispatcher:
    kwargs.setdefault("policy", RetryPolicy(jitter=0))
    return Dispatcher(room.store.outbox, channels(settings, room.clock), room.clock, **kwargs)


def real_now(room: Newsroom) -> None:
    # standardwebhooks refuses signatures more than 5 minutes off the receiver's clock.
    room.clock.at = dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_a_publication_reaches_the_webhook_signed_and_the_hub(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    room, settings = office(tmp_path, receiver)
    real_now(room)
    room.add("news.txt", "Big news", room.clock.now().strftime("%B %d, %Y"))
    room.ingest()
    report = dispatcher(room, settings).run()
    assert report.count("delivered") == 7  # one webhook, six feeds pinged
    hooks = [r for r in receiver.requests if r.path == "/hook"]
    pings = [r for r in receiver.requests if r.path == "/hub"]
    [hook] = hooks
    event = verify(hook, secret)
    assert event["type"] == "release.published" and event["data"]["id"] == "news"
    assert hook.headers["webhook-id"].startswith("msg_")
    assert sorted(p.form()["hub.url"][0] for p in pings) == sorted(
        BASE_URL + folder + name
        for folder in ("", "sections/press-releases/")
        for name in ("feed.xml", "atom.xml", "feed.json")
    )
    assert all(p.form()["hub.mode"] == ["publish"] for p in pings)
    assert room.store.outbox.counts() == {("webhook", "delivered"): 1, ("websub", "delivered"): 6}


def test_failures_are_retried_on_schedule_with_the_same_id(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    room, settings = office(tmp_path, receiver, websub={"hubs": []})
    real_now(room)
    room.add("news.txt", "Big news", room.clock.now().strftime("%B %d, %Y"))
    room.ingest()
    receiver.answer(status=500, body="database is down")
    receiver.answer(status=429, headers={"Retry-After": "120"})
    send = dispatcher(room, settings)
    assert send.run().count("retry") == 1
    [delivery] = room.store.outbox.list()
    assert delivery.next_attempt_at == room.clock.now() + dt.timedelta(seconds=5)
    assert "500" in delivery.last_error and "database is down" in delivery.last_error
    assert send.run().claimed == 0  # not due yet
    room.clock.advance(seconds=5)
    assert send.run().count("retry") == 1
    [delivery] = room.store.outbox.list()
    assert delivery.next_attempt_at == room.clock.now() + dt.timedelta(seconds=300)
    room.clock.advance(seconds=300)
    assert send.run().count("delivered") == 1
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert len(ids) == 1 and stamps == sorted(stamps) and len(set(stamps)) == 3
    verify(receiver.requests[0], secret)  # the later ones are signed minutes ahead
    assert len({r.headers["webhook-signature"] for r in receiver.requests}) == 3
    attempts = room.store.outbox.attempts(delivery.id)
    assert [a.outcome for a in attempts] == ["retry", "retry", "delivered"]


def test_a_delivery_that_keeps_failing_dies_with_its_last_error(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    room, settings = office(tmp_path, receiver, websub={"hubs": []})
    receiver.default = receiver.default.__class__(status=502, body=b"bad gateway")
    room.store.outbox.enqueue(
        [
            Outgoing(
                "webhook", receiver.url + "hook", {"type": "t", "timestamp": "", "data": {}}, "k"
            )
        ],
        room.clock.now(),
    )
    send = dispatcher(room, settings, policy=RetryPolicy(delays=(0, 1, 1), jitter=0))
    real_now(room)
    for _ in range(3):
        send.run()
        room.clock.advance(seconds=1)
    [delivery] = room.store.outbox.list()
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    assert "502" in delivery.last_error
    assert len(receiver.requests) == 3
    assert room.store.outbox.retry(room.clock.now()) == 1  # `feedsvc outbox retry --all-dead`
    receiver.default = receiver.default.__class__(status=204)
    assert send.run().count("delivered") == 1


def test_410_disables_the_endpoint_and_cancels_what_waits_for_it(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    room, settings = office(tmp_path, receiver, websub={"hubs": []})
    real_now(room)
    url = receiver.url + "hook"
    body = {"type": "t", "timestamp": "", "data": {}}
    room.store.outbox.enqueue([Outgoing("webhook", url, body, "a")], room.clock.now())
    later = room.clock.now() + dt.timedelta(hours=1)
    room.store.outbox.enqueue([Outgoing("webhook", url, body, "b")], later)
    receiver.answer(status=410)
    assert dispatcher(room, settings).run().count("dead") == 1
    statuses = {d.key: d.status for d in room.store.outbox.list()}
    assert statuses == {"a": "dead", "b": "cancelled"}
    [endpoint] = room.store.outbox.endpoints()
    assert endpoint.disabled_at is not None and "410" in endpoint.disabled_reason
    room.add("news.txt", "Big news", room.clock.now().strftime("%B %d, %Y"))
    room.ingest()
    assert len(room.store.outbox.list()) == 2  # nothing queued for a disabled endpoint


def test_an_endpoint_failing_for_days_is_disabled(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    room, settings = office(tmp_path, receiver, websub={"hubs": []})
    url = receiver.url + "hook"
    body = {"type": "t", "timestamp": "", "data": {}}
    receiver.default = receiver.default.__class__(status=503)
    send = dispatcher(room, settings, disable_after=dt.timedelta(days=5))
    for day in range(7):
        room.store.outbox.enqueue([Outgoing("webhook", url, body, f"day {day}")], room.clock.now())
        send.run()
        room.clock.advance(days=1)
    [endpoint] = room.store.outbox.endpoints()
    assert endpoint.disabled_at is not None and "failing since" in endpoint.disabled_reason
    statuses = sorted(d.status for d in room.store.outbox.list())
    assert "pending" not in statuses and "dead" in statuses
    assert room.store.outbox.enable_endpoint(url)


def test_success_clears_the_failing_mark(tmp_path: Path, receiver: Receiver, secret: str) -> None:
    room, settings = office(tmp_path, receiver, websub={"hubs": []})
    real_now(room)
    url = receiver.url + "hook"
    body = {"type": "t", "timestamp": "", "data": {}}
    room.store.outbox.enqueue([Outgoing("webhook", url, body, "a")], room.clock.now())
    receiver.answer(status=500)
    send = dispatcher(room, settings)
    send.run()
    assert room.store.outbox.endpoints()[0].failing_since is not None
    room.clock.advance(seconds=5)
    send.run()
    assert room.store.outbox.endpoints()[0].failing_since is None


def email(n: int) -> Outgoing:
    payload = {
        "to": f"friend{n}@example.org",
        "subject": f"Release {n}",
        "text": "Hi",
        "html": None,
    }
    return Outgoing("email", f"friend{n}@example.org", payload, f"share {n}")


def test_email_over_smtp_retries_4xx_and_buries_5xx(tmp_path: Path, receiver: Receiver) -> None:
    handler = Recorder(rcpt_replies=["451 4.3.0 try again later", "550 5.1.1 no such user"])
    with smtp_server(handler) as server:
        room, settings = office(
            tmp_path,
            receiver,
            mail={
                "transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_security": "none",
            },
        )
        room.store.outbox.enqueue([email(1), email(2), email(3)], room.clock.now())
        send = Dispatcher(
            room.store.outbox,
            {"email": SmtpChannel(settings.mail, Letterhead.of(settings))},
            room.clock,
            policy=RetryPolicy(jitter=0),
            lanes={"email": 1},  # the replies above are given in order
        )
        report = send.run()
        assert (report.count("retry"), report.count("dead"), report.count("delivered")) == (1, 1, 1)
        room.clock.advance(seconds=5)
        assert send.run().count("delivered") == 1
    by_key = {d.key: d for d in room.store.outbox.list()}
    assert by_key["share 1"].status == "delivered" and by_key["share 1"].attempts == 2
    assert by_key["share 2"].status == "dead" and "550" in by_key["share 2"].last_error
    assert by_key["share 3"].status == "delivered"
    assert sorted(r.rcpt_tos[0] for r in handler.received) == [
        "friend1@example.org",
        "friend3@example.org",
    ]
    assert len(handler.peers) == 2  # one connection a run: three messages on the first


def test_email_lanes_each_keep_a_connection(tmp_path: Path, receiver: Receiver) -> None:
    handler = Recorder()
    with smtp_server(handler) as server:
        room, settings = office(
            tmp_path,
            receiver,
            mail={
                "transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_security": "none",
                "smtp_connections": 2,
            },
        )
        room.store.outbox.enqueue([email(n) for n in range(40)], room.clock.now())
        report = dispatcher(room, settings).run()
        assert report.count("delivered") == 40
    assert len(handler.received) == 40
    assert len(handler.peers) == 2  # two lanes, each over one kept-open connection
    assert handler.quits == 2


def test_email_to_the_maildir_by_default(tmp_path: Path, receiver: Receiver) -> None:
    room, settings = office(tmp_path, receiver)
    room.store.outbox.enqueue([email(1)], room.clock.now())
    assert dispatcher(room, settings).run().count("delivered") == 1
    [message] = list((tmp_path / "var" / "mail" / "new").iterdir())
    assert b"Subject: Release 1" in message.read_bytes()


class Exploding:
    name = "email"

    def send(self, delivery: Delivery) -> None:
        raise KeyError("a defect")

    def close(self) -> None:
        pass


def test_a_defect_in_a_channel_is_a_transient_failure_not_a_crash(
    tmp_path: Path, receiver: Receiver
) -> None:
    room, _settings = office(tmp_path, receiver)
    room.store.outbox.enqueue([email(1)], room.clock.now())
    channel: Channel = Exploding()
    report = Dispatcher(room.store.outbox, {"email": channel}, room.clock).run()
    assert report.count("retry") == 1
    [delivery] = room.store.outbox.list()
    assert "KeyError" in delivery.last_error and delivery.status == "pending"


class StopsTheService:
    """Sends one message, then the service is asked to stop."""

    name = "email"

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.sent: list[int] = []

    def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery.id)
        self.stop.set()

    def close(self) -> None:
        pass


def test_stopping_gives_back_what_was_not_tried(tmp_path: Path, receiver: Receiver) -> None:
    room, _settings = office(tmp_path, receiver)
    room.store.outbox.enqueue([email(n) for n in range(5)], room.clock.now())
    stop = threading.Event()
    channel = StopsTheService(stop)
    report = Dispatcher(room.store.outbox, {"email": channel}, room.clock).run(stop=stop)
    assert report.claimed == 5 and len(channel.sent) == 1
    rest = [d for d in room.store.outbox.list() if d.id not in channel.sent]
    # Due again at once (no waiting for the lease), and the claim did not count.
    assert {(d.status, d.attempts) for d in rest} == {("pending", 0)}
    assert len(room.store.outbox.claim_due(room.clock.now(), 10, dt.timedelta(1)).deliveries) == 4
