from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from feedsvc.clock import FixedClock
from feedsvc.config import Settings, settings_from_dict
from feedsvc.model import Delivery
from tests.channels.http_receiver import Receiver

SECRET_ENV = "FEEDSVC_TEST_WEBHOOK_SECRET"
EVENT = {
    "type": "release.published",
    "timestamp": "2024-05-01T09:00:00Z",
    "data": {"id": "2024-05-01-budget", "title": "Budget für 2025 — “approved”"},
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def clock() -> FixedClock:
    # Near the real time: standardwebhooks' verify() refuses a timestamp 5 minutes off.
    return FixedClock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = new_secret()
    monkeypatch.setenv(SECRET_ENV, value)
    return value


@pytest.fixture
def channel_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with these webhook endpoints and hubs; private targets allowed unless
    told otherwise, so the receiver on 127.0.0.1 can be reached."""

    def make(
        webhooks: tuple[str, ...] = (),
        hubs: tuple[str, ...] = (),
        allow_private: bool = True,
        timeout: float = 2.0,
    ) -> Settings:
        raw = {
            "webhooks": [{"url": url, "secret_env": SECRET_ENV} for url in webhooks],
            "websub": {"hubs": list(hubs)},
            "outbox": {"allow_private_targets": allow_private, "webhook_timeout_seconds": timeout},
        }
        return settings_from_dict(raw, root=tmp_path)

    return make


@pytest.fixture
def make_delivery(clock: FixedClock) -> Callable[..., Delivery]:
    def make(
        target: str,
        payload: Mapping[str, Any] = EVENT,
        channel: str = "webhook",
        key: str = "release.published:2024-05-01-budget",
        attempts: int = 1,
    ) -> Delivery:
        now = clock.now()
        return Delivery(
            id=1,
            channel=channel,
            target=target,
            payload=payload,
            key=key,
            status="sending",
            attempts=attempts,
            created_at=now,
            next_attempt_at=now,
        )

    return make
