from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from feedsvc.channels import EndpointGone, PermanentFailure, TransientFailure
from feedsvc.channels.net import TargetForbidden
from feedsvc.channels.webhook import MAX_BODY_BYTES, WebhookChannel
from feedsvc.clock import FixedClock
from feedsvc.config import Settings
from feedsvc.model import Delivery
from tests.channels.conftest import EVENT, SECRET_ENV, new_secret
from tests.channels.http_receiver import Receiver, verify

MakeSettings = Callable[..., Settings]
MakeDelivery = Callable[..., Delivery]


def channel_of(s: Settings, **kwargs: Any) -> WebhookChannel:
    return WebhookChannel(s.outbox, s.webhooks, **kwargs)


@pytest.fixture
def channel(
    receiver: Receiver, channel_settings: MakeSettings, clock: FixedClock, secret: str
) -> WebhookChannel:
    return channel_of(channel_settings(webhooks=(receiver.url,)), clock=clock)


def test_the_event_is_signed_and_verifies(
    channel: WebhookChannel,
    receiver: Receiver,
    make_delivery: MakeDelivery,
    clock: FixedClock,
    secret: str,
) -> None:
    delivery = make_delivery(receiver.url)
    channel.send(delivery)
    (request,) = receiver.requests
    assert verify(request, secret) == EVENT
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("feedsvc/")
    assert request.headers["webhook-id"] == f"msg_{delivery.stable_id}"
    assert request.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))


def test_the_body_is_compact_utf8_json(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    channel.send(make_delivery(receiver.url))
    body = receiver.requests[0].body
    assert body == json.dumps(EVENT, separators=(",", ":"), ensure_ascii=False).encode()
    assert "Budget für 2025 — “approved”".encode() in body


def test_every_secret_signs_while_one_rotates(
    channel: WebhookChannel,
    receiver: Receiver,
    make_delivery: MakeDelivery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new, old = new_secret(), new_secret()
    monkeypatch.setenv(SECRET_ENV, f"{new} {old}")
    channel.send(make_delivery(receiver.url))
    (request,) = receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret, signature, other in ((new, signatures[0], old), (old, signatures[1], new)):
        alone = {**request.headers, "webhook-signature": signature}
        assert Webhook(secret).verify(request.body, alone) == EVENT
        with pytest.raises(WebhookVerificationError):
            Webhook(other).verify(request.body, alone)


def test_a_retry_keeps_the_id_and_gets_a_fresh_timestamp(
    channel: WebhookChannel,
    receiver: Receiver,
    make_delivery: MakeDelivery,
    clock: FixedClock,
    secret: str,
) -> None:
    receiver.answer(status=500)
    with pytest.raises(TransientFailure):
        channel.send(make_delivery(receiver.url, attempts=1))
    clock.advance(seconds=90)
    channel.send(make_delivery(receiver.url, attempts=2))
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 90
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    assert verify(first, secret) == verify(second, secret) == EVENT


def test_500_is_transient_and_quotes_the_body(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    receiver.answer(status=500, body="database is down\n")
    with pytest.raises(TransientFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert str(e.value) == "HTTP 500 Internal Server Error: database is down"
    assert e.value.retry_after is None


def test_429_with_retry_after_seconds(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    receiver.answer(status=429, headers={"Retry-After": "7"})
    with pytest.raises(TransientFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert e.value.retry_after == 7


def test_503_with_retry_after_date(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery, clock: FixedClock
) -> None:
    when = clock.now() + dt.timedelta(minutes=2)
    receiver.answer(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    with pytest.raises(TransientFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert e.value.retry_after == 120


def test_410_means_the_endpoint_is_gone(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    receiver.answer(status=410, body="unsubscribed")
    with pytest.raises(EndpointGone, match=r"^HTTP 410 Gone: unsubscribed$"):
        channel.send(make_delivery(receiver.url))


def test_400_is_permanent(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    receiver.answer(status=400, body='{"error": "unknown event type"}')
    with pytest.raises(PermanentFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert type(e.value) is PermanentFailure
    assert str(e.value) == 'HTTP 400 Bad Request: {"error": "unknown event type"}'


def test_a_redirect_is_not_followed(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    with Receiver() as elsewhere:
        receiver.answer(status=301, headers={"Location": elsewhere.url})
        with pytest.raises(TransientFailure) as e:
            channel.send(make_delivery(receiver.url))
        assert elsewhere.requests == []
    assert f"redirects are not followed (Location: {elsewhere.url})" in str(e.value)


def test_a_slow_receiver_times_out(
    receiver: Receiver,
    channel_settings: MakeSettings,
    clock: FixedClock,
    make_delivery: MakeDelivery,
    secret: str,
) -> None:
    channel = channel_of(channel_settings(webhooks=(receiver.url,), timeout=0.5), clock=clock)
    receiver.answer(status=200, delay=3)
    started = time.monotonic()
    with pytest.raises(TransientFailure, match=re.escape("no answer within 0.5 s")):
        channel.send(make_delivery(receiver.url))
    assert time.monotonic() - started < 1.0
    assert len(receiver.requests) == 1


def test_a_huge_answer_does_not_hold_up_a_success(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    receiver.answer(status=200, body=b"x" * 10_000_000)
    started = time.monotonic()
    channel.send(make_delivery(receiver.url))
    assert time.monotonic() - started < 1.0


def padded(size: int) -> dict:
    """EVENT with data padded so that its compact JSON is exactly `size` bytes."""
    event = {**EVENT, "data": {**EVENT["data"], "pad": ""}}
    base = len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())
    event["data"]["pad"] = "p" * (size - base)
    return event


def test_a_payload_over_20_kb_is_refused_unsent(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    channel.send(make_delivery(receiver.url, payload=padded(MAX_BODY_BYTES)))
    with pytest.raises(PermanentFailure, match="20001 bytes of JSON, more than the 20000"):
        channel.send(make_delivery(receiver.url, payload=padded(MAX_BODY_BYTES + 1)))
    assert len(receiver.requests) == 1


def test_a_missing_secret_is_transient_and_sends_nothing(
    channel: WebhookChannel,
    receiver: Receiver,
    make_delivery: MakeDelivery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(TransientFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert type(e.value) is TransientFailure
    assert f"the environment variable {SECRET_ENV} is not set or empty" in str(e.value)
    monkeypatch.setenv(SECRET_ENV, "  ")
    with pytest.raises(TransientFailure, match="is not set or empty"):
        channel.send(make_delivery(receiver.url))
    assert receiver.requests == []


def test_a_malformed_secret_is_named_not_shown(
    channel: WebhookChannel,
    receiver: Receiver,
    make_delivery: MakeDelivery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, "whsec_abcde")
    with pytest.raises(TransientFailure) as e:
        channel.send(make_delivery(receiver.url))
    assert SECRET_ENV in str(e.value) and "abcde" not in str(e.value)
    assert receiver.requests == []


def test_an_endpoint_no_longer_configured_is_permanent(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    gone = f"{receiver.url}old"
    with pytest.raises(PermanentFailure, match="is no longer a configured endpoint"):
        channel.send(make_delivery(gone))
    assert receiver.requests == []


def test_the_channel_sends_again_after_close(
    channel: WebhookChannel, receiver: Receiver, make_delivery: MakeDelivery
) -> None:
    channel.send(make_delivery(receiver.url))
    channel.close()
    channel.send(make_delivery(receiver.url))
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/", "http://127.0.0.1:{port}/ is not https"),
        ("https://127.0.0.1:{port}/", "resolves to 127.0.0.1, a loopback address"),
        ("https://localhost:{port}/", "resolves to 127.0.0.1, a loopback address"),
        ("https://[::1]:{port}/", "resolves to ::1, a loopback address"),
        ("https://10.0.0.1/", "resolves to 10.0.0.1, a private address"),
        ("https://169.254.169.254/latest/", "resolves to 169.254.169.254, a link-local address"),
    ],
)
def test_private_targets_are_refused(
    receiver: Receiver,
    channel_settings: MakeSettings,
    make_delivery: MakeDelivery,
    secret: str,
    url: str,
    reason: str,
) -> None:
    url, reason = url.format(port=receiver.port), reason.format(port=receiver.port)
    channel = channel_of(channel_settings(webhooks=(url,), allow_private=False))
    started = time.monotonic()
    with pytest.raises(TargetForbidden) as e:
        channel.send(make_delivery(url))
    assert time.monotonic() - started < 0.5  # refused, not tried
    assert str(e.value).startswith(url)
    assert reason in str(e.value)
    assert str(e.value).endswith("; set outbox.allow_private_targets for development")
    assert receiver.requests == []


def test_rebinding_is_refused_at_connect(
    receiver: Receiver, channel_settings: MakeSettings, make_delivery: MakeDelivery, secret: str
) -> None:
    url = f"https://localhost:{receiver.port}/hook"
    channel = channel_of(
        channel_settings(webhooks=(url,), allow_private=False),
        resolve=lambda host, port: ["93.184.216.34"],
    )
    with pytest.raises(
        TargetForbidden, match=re.escape("connected to 127.0.0.1, a loopback address")
    ):
        channel.send(make_delivery(url))
    assert receiver.requests == []
