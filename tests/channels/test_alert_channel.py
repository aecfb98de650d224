"""The alert channel (issue 16) on real parts: alerts queued by the store's fan-out and
digests (SQLite, or PostgreSQL in that run), claimed from the outbox, composed at send time
and sent to an aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from feedsvc.alerts import bounces, tokens
from feedsvc.channels import Cancelled, PermanentFailure
from feedsvc.channels.alert import AlertChannel, alert_channel
from feedsvc.channels.email import Letterhead
from feedsvc.channels.smtp import SenderRefused, SmtpChannel
from feedsvc.config import database_url
from feedsvc.model import Delivery
from feedsvc.service import announcing, dispatcher
from feedsvc.sharing.keys import Signer
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import Newsroom, db_rows, make_newsroom

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # the newsroom's clock
SIGNER = Signer(b"s" * 32)
DOMAIN = "press.example.org"
LEASE = dt.timedelta(days=30)  # a claim is never taken back within a test


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def room(tmp_path: Path, recorder: Recorder) -> Iterator[Newsroom]:
    with smtp_server(recorder) as server:
        mail = {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_security": "none",
            "smtp_timeout_seconds": 2.0,
        }
        room = make_newsroom(tmp_path, mail=mail, alerts={"max_hard_bounces": 1})
        announcing(room.store, room.settings)
        yield room
        room.store.close()


@pytest.fixture
def channel(room: Newsroom) -> Iterator[AlertChannel]:
    smtp = SmtpChannel(room.settings.mail, Letterhead.of(room.settings))
    made = alert_channel(room.settings, room.store, SIGNER, smtp, room.clock)
    yield made
    made.close()


def subscriber(room: Newsroom, who: str, frequency: str = "immediate", confirm: bool = True) -> str:
    subs = room.store.subscribers
    at = T0 - dt.timedelta(days=3)
    sid = subs.request(f"hash-{who}", f"{who}@example.org", frequency, None, None, at, "n", "f1")
    if confirm:
        assert subs.confirm(sid, at)
    return sid


def publish(room: Newsroom, name: str = "budget", title: str = "Budget approved") -> None:
    room.write(
        f"{name}.md",
        f'+++\ntitle = "{title}"\nsection = "Health"\n'
        "date = 2026-11-27T09:00:00+08:00\n+++\n\nThe ministry said things.\n",
    )
    room.ingest()


def claim(room: Newsroom) -> list[Delivery]:
    claimed = room.store.outbox.claim_due(room.clock.now(), 100, LEASE).deliveries
    return sorted((d for d in claimed if d.channel == "alert"), key=lambda d: d.target)


def send_all(channel: AlertChannel, deliveries: list[Delivery]) -> dict[str, Any]:
    """Each delivery's outcome by target: "sent" or the failure raised."""
    channel.prepare(deliveries)
    outcomes: dict[str, Any] = {}
    for delivery in deliveries:
        try:
            channel.send(delivery)
            outcomes[delivery.target] = "sent"
        except PermanentFailure as failure:
            outcomes[delivery.target] = failure
    return outcomes


def test_confirmed_subscribers_get_the_release_with_their_own_return_path(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    zoe, max_ = subscriber(room, "zoe"), subscriber(room, "max")
    publish(room)
    deliveries = claim(room)
    assert sorted(d.target for d in deliveries) == sorted([zoe, max_])
    channel.prepare(deliveries)
    statements: list[str] = []
    event.listen(room.store.engine, "before_cursor_execute", _record(statements))
    for delivery in deliveries:
        channel.send(delivery)
    assert statements == []  # prepare read what the sends needed
    key = tokens.verp_key(SIGNER)
    by_target = {bounces.subscriber_of(r.mail_from, DOMAIN, key): r for r in recorder.received}
    assert set(by_target) == {zoe, max_}
    for delivery in deliveries:
        received = by_target[delivery.target]
        message = received.message
        assert received.rcpt_tos == [f"{'zoe' if delivery.target == zoe else 'max'}@example.org"]
        assert message["Subject"] == "Budget approved"
        assert message["Message-ID"] == f"<{delivery.stable_id}@{DOMAIN}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = message["List-Unsubscribe"].split("?t=")[1].rstrip(">")
        assert tokens.managed_id(SIGNER, token) == delivery.target
        text = message.get_body(("plain",)).get_content()
        assert "https://press.example.org/releases/budget/" in text


def _record(statements: list[str]) -> Any:
    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    return record


def test_a_subscriber_who_left_or_was_erased_is_not_mailed(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    left, erased, stays = (subscriber(room, w) for w in ("left", "erased", "stays"))
    publish(room)
    deliveries = claim(room)
    assert room.store.subscribers.unsubscribe(left, T0)
    assert room.store.subscribers.erase("hash-erased")
    outcomes = send_all(channel, deliveries)
    assert isinstance(outcomes[left], Cancelled)
    assert isinstance(outcomes[erased], Cancelled)
    assert outcomes[stays] == "sent"
    assert [r.rcpt_tos for r in recorder.received] == [["stays@example.org"]]


def test_a_release_withdrawn_after_its_alerts_were_claimed_is_not_sent(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    zoe = subscriber(room, "zoe")
    publish(room)
    deliveries = claim(room)
    (room.items / "budget.md").unlink()
    room.ingest()
    outcomes = send_all(channel, deliveries)
    assert isinstance(outcomes[zoe], Cancelled)
    assert "withdrawn" in str(outcomes[zoe])
    assert recorder.received == []


def test_a_digest_lists_what_matched_and_an_empty_one_is_cancelled(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    daily = subscriber(room, "daily", frequency="daily")
    publish(room, "budget", "Budget approved")
    publish(room, "flu", "Flu season")
    later = T0 + dt.timedelta(hours=1)
    room.clock.at = later
    assert room.store.alerts.enqueue_digests("daily", "2026-11-27", later, later) == 1
    [digest] = claim(room)
    assert digest.payload["kind"] == "digest"
    assert send_all(channel, [digest]) == {daily: "sent"}
    [received] = recorder.received
    assert received.message["Subject"] == "Your daily digest from Ministry Press Office"
    text = received.message.get_body(("plain",)).get_content()
    assert text.index("Budget approved") < text.index("Flu season")
    assert "https://press.example.org/releases/flu/" in text

    # The next day's digest: its one release withdrawn meanwhile, nothing left to list.
    room.clock.at = T0 + dt.timedelta(hours=2)
    publish(room, "trade", "Trade figures")
    room.clock.at = T0 + dt.timedelta(days=1)
    assert room.store.alerts.enqueue_digests("daily", "2026-11-28", room.clock.at, room.clock.at)
    (room.items / "trade.md").unlink()
    room.ingest()
    [empty] = claim(room)
    assert isinstance(send_all(channel, [empty])[daily], Cancelled)
    assert len(recorder.received) == 1


def test_a_refused_recipient_is_a_hard_bounce_and_suspends(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    zoe = subscriber(room, "zoe")
    publish(room)
    recorder.rcpt_replies.append("550 5.1.1 No such user")
    [delivery] = claim(room)
    outcome = send_all(channel, [delivery])[zoe]
    assert isinstance(outcome, PermanentFailure) and not isinstance(outcome, Cancelled)
    found = room.store.subscribers.get(zoe)
    assert found is not None
    assert (found.status, found.hard_bounces) == ("suspended", 1)
    # Suspended: the next alert is not sent.
    publish(room, "flu", "Flu season")
    assert claim(room) == []  # the fan-out skips them, and a send would cancel
    assert isinstance(send_all(channel, [delivery])[zoe], Cancelled)
    assert recorder.received == []


def test_a_refused_envelope_sender_is_not_the_subscribers_bounce(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    zoe = subscriber(room, "zoe")
    publish(room)
    recorder.mail_replies.append("553 5.7.1 Sender address rejected")
    [delivery] = claim(room)
    assert isinstance(send_all(channel, [delivery])[zoe], SenderRefused)
    found = room.store.subscribers.get(zoe)
    assert found is not None
    assert (found.status, found.hard_bounces) == ("confirmed", 0)


def test_the_confirmation_goes_to_a_pending_subscriber_only(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    rules = room.settings.alerts

    def ask(who: str, nonce: str) -> None:
        taken = room.store.alerts.request(
            address_hash=f"hash-{who}",
            address=f"{who}@example.org",
            frequency="daily",
            sections=None,
            language=None,
            network="192.0.2.0/24",
            ip_hash="ip",
            nonce=nonce,
            now=T0,
            rules=rules,
            form_version="f1",
        )
        assert taken is None

    ask("new", "n1")
    ask("quick", "n2")
    deliveries = claim(room)
    assert [d.payload["kind"] for d in deliveries] == ["confirm", "confirm"]
    by_address = {room.store.subscribers.get(d.target).address: d.target for d in deliveries}  # type: ignore[union-attr]
    quick, new = by_address["quick@example.org"], by_address["new@example.org"]
    room.store.subscribers.confirm(quick, T0)  # confirmed (an old link) before its email went
    outcomes = send_all(channel, deliveries)
    assert isinstance(outcomes[quick], Cancelled)
    [received] = recorder.received
    assert received.rcpt_tos == ["new@example.org"]
    text = received.message.get_body(("plain",)).get_content()
    token = text.split("alerts/confirm?t=")[1].split()[0]
    assert tokens.confirmed_id(SIGNER, token, T0, rules.confirm_days) == new
    assert received.message["List-Unsubscribe"] is None


def test_through_the_dispatcher_each_alert_is_sent_once_or_cancelled(
    room: Newsroom, channel: AlertChannel, recorder: Recorder
) -> None:
    stays, left = subscriber(room, "stays"), subscriber(room, "left")
    publish(room)
    room.store.subscribers.unsubscribe(left, T0)  # after the fan-out, before the send
    dispatcher(room.settings, room.store, room.clock, {"alert": channel}).run(budget=20)
    statuses = db_rows(
        database_url(room.settings),
        "SELECT target, status FROM deliveries WHERE channel = 'alert' ORDER BY target",
    )
    assert dict(statuses) == {stays: "delivered", left: "cancelled"}
    assert [r.rcpt_tos for r in recorder.received] == [["stays@example.org"]]
    dispatcher(room.settings, room.store, room.clock, {"alert": channel}).run(budget=5)
    assert len(recorder.received) == 1  # never twice
