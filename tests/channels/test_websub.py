from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from feedsvc.channels import DeliveryFailed, EndpointGone, PermanentFailure, TransientFailure
from feedsvc.channels.net import TargetForbidden
from feedsvc.channels.websub import WebSubChannel
from feedsvc.clock import FixedClock
from feedsvc.config import Settings
from feedsvc.model import Delivery
from tests.channels.http_receiver import Answer, Receiver

MakeSettings = Callable[..., Settings]
TOPIC = "https://press.example.org/feed.atom?lang=en&x=1"


def channel_of(s: Settings, **kwargs: Any) -> WebSubChannel:
    return WebSubChannel(s.outbox, s.websub.hubs, **kwargs)


@pytest.fixture
def hub(receiver: Receiver) -> Receiver:
    receiver.default = Answer(status=202)  # hubs accept a ping for later
    return receiver


@pytest.fixture
def channel(hub: Receiver, channel_settings: MakeSettings, clock: FixedClock) -> WebSubChannel:
    return channel_of(channel_settings(hubs=(hub.url,), timeout=0.5), clock=clock)


@pytest.fixture
def ping(make_delivery: Callable[..., Delivery]) -> Callable[..., Delivery]:
    def make(hub: str, topic: str = TOPIC) -> Delivery:
        return make_delivery(hub, payload={"topic": topic}, channel="websub", key=f"ping:{topic}")

    return make


def test_the_hub_gets_a_publish_ping(
    channel: WebSubChannel, hub: Receiver, ping: Callable[..., Delivery]
) -> None:
    channel.send(ping(hub.url))
    (request,) = hub.requests
    assert (request.method, request.path) == ("POST", "/")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"hub.mode": ["publish"], "hub.url": [TOPIC]}
    assert request.body == (
        b"hub.mode=publish&hub.url=https%3A%2F%2Fpress.example.org%2Ffeed.atom%3Flang%3Den%26x%3D1"
    )


def test_204_is_success_too(
    channel: WebSubChannel, hub: Receiver, ping: Callable[..., Delivery]
) -> None:
    hub.answer(status=204)
    channel.send(ping(hub.url))
    assert len(hub.requests) == 1


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (500, {}, TransientFailure, None),
        (429, {"Retry-After": "7"}, TransientFailure, 7),
        (503, {"Retry-After": "30"}, TransientFailure, 30),
        (302, {"Location": "https://hub.example.org/"}, TransientFailure, None),
        (400, {}, PermanentFailure, None),
        (410, {}, PermanentFailure, None),  # not EndpointGone: hubs are configured, not disabled
    ],
)
def test_failures(
    channel: WebSubChannel,
    hub: Receiver,
    ping: Callable[..., Delivery],
    status: int,
    headers: dict[str, str],
    kind: type[DeliveryFailed],
    retry_after: float | None,
) -> None:
    hub.answer(status=status, headers=headers, body="topic not found")
    with pytest.raises(DeliveryFailed) as e:
        channel.send(ping(hub.url))
    assert type(e.value) is kind and not isinstance(e.value, EndpointGone)
    assert e.value.retry_after == retry_after
    assert str(e.value).startswith(f"HTTP {status}")


def test_a_slow_hub_times_out(
    channel: WebSubChannel, hub: Receiver, ping: Callable[..., Delivery]
) -> None:
    hub.answer(status=202, delay=3)
    started = time.monotonic()
    with pytest.raises(TransientFailure, match=re.escape("no answer within 0.5 s")):
        channel.send(ping(hub.url))
    assert time.monotonic() - started < 1.0


def test_a_hub_no_longer_configured_is_permanent(
    channel: WebSubChannel, hub: Receiver, ping: Callable[..., Delivery]
) -> None:
    with pytest.raises(PermanentFailure, match="is no longer a configured hub"):
        channel.send(ping(f"{hub.url}old"))
    assert hub.requests == []


def test_a_ping_without_topic_is_permanent(
    channel: WebSubChannel, hub: Receiver, ping: Callable[..., Delivery]
) -> None:
    with pytest.raises(PermanentFailure, match=r"payload\['topic'\]"):
        channel.send(ping(hub.url, topic=""))
    assert hub.requests == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/", "is not https"),
        ("https://localhost:{port}/", "resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_private_hubs_are_refused(
    hub: Receiver,
    channel_settings: MakeSettings,
    ping: Callable[..., Delivery],
    url: str,
    reason: str,
) -> None:
    url = url.format(port=hub.port)
    channel = channel_of(channel_settings(hubs=(url,), allow_private=False))
    with pytest.raises(TargetForbidden, match=reason):
        channel.send(ping(url))
    assert hub.requests == []
