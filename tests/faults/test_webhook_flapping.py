"""Webhook receivers that flap between 500, a timeout and 200, against a live `feedsvc
serve`: the event is delivered once it is answered 200, and then never again; every
attempt carries the same webhook-id and a valid signature.

One service, one release, three endpoints, each flapping its own way:

- `error_then_ok`: 500, then 200 (the retry comes 5 s later);
- `timeout_then_ok`: an answer slower than outbox.webhook_timeout_seconds, then 200;
- `error_timeout_ok`: 500, a timeout, then 200. The schedule waits 5 minutes before a
  third attempt: the test checks that wait is planned, then moves the delivery's next
  attempt to now in the database, as the passing of those 5 minutes would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Receiver, Request, verify
from tests.conftest import db_rows, newsroom_text
from tests.faults.live import today, visible
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

SECRET_ENV = "FEEDSVC_TEST_FLAPPING_HOOK_SECRET"
TIMEOUT = 1.0  # outbox.webhook_timeout_seconds
TOO_SLOW = 3.0  # a receiver's delay that is a timeout
RELEASE = "flap"
PLANS = {
    "error_then_ok": [(500, 0.0), (200, 0.0)],
    "timeout_then_ok": [(200, TOO_SLOW), (200, 0.0)],
    "error_timeout_ok": [(500, 0.0), (200, TOO_SLOW), (200, 0.0)],
}


@dataclass
class Endpoint:
    receiver: Receiver
    requests: list[Request]  # what reached the receiver, once the test is over
    delivery: tuple[str, int]  # (status, attempts) of its delivery
    attempts: list[tuple[str, str | None]]  # (outcome, error) of each recorded attempt
    third_attempt_planned_after: float  # seconds (error_timeout_ok only)


def as_utc(value: dt.datetime | str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=dt.UTC)


def deliveries(srv: Server, url: str) -> list[tuple]:
    return db_rows(
        srv.database_url,
        "SELECT id, status, attempts, updated_at, next_attempt_at FROM deliveries"
        " WHERE channel = 'webhook' AND target = :target",
        target=url,
    )


@pytest.fixture(scope="module")
def secret() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp:  # the service inherits the environment
        value = new_secret()
        mp.setenv(SECRET_ENV, value)
        yield value


@pytest.fixture(scope="module")
def flapped(tmp_path_factory: pytest.TempPathFactory, secret: str) -> dict[str, Endpoint]:
    receivers = {name: Receiver().start() for name in PLANS}
    try:
        for name, plan in PLANS.items():
            for status, delay in plan:
                receivers[name].answer(status=status, delay=delay)
        urls = {name: r.url + "hook" for name, r in receivers.items()}
        srv = Server(
            tmp_path_factory.mktemp("flapping") / "office",
            {
                "webhooks": [{"url": url, "secret_env": SECRET_ENV} for url in urls.values()],
                "outbox": {
                    "allow_private_targets": True,
                    "tick_seconds": 0.2,
                    "webhook_timeout_seconds": TIMEOUT,
                },
            },
        )
        srv.start()
        try:
            srv.write(f"{RELEASE}.txt", newsroom_text("Flapping news", today(), ["It flaps."]))
            visible(srv, RELEASE)
            # The third: after a 500 and a timeout, the 5-minute wait is planned.
            slow = urls["error_timeout_ok"]
            wait_for(
                lambda: [row[1:3] for row in deliveries(srv, slow)] == [("pending", 2)],
                15,
                what="two failed attempts",
            )
            [(delivery_id, _, _, failed_at, next_at)] = deliveries(srv, slow)
            planned = (as_utc(next_at) - as_utc(failed_at)).total_seconds()
            db_rows(
                srv.database_url,
                "UPDATE deliveries SET next_attempt_at = created_at WHERE id = :id",
                id=delivery_id,
            )
            wait_for(
                lambda: all(
                    [row[1] for row in deliveries(srv, url)] == ["delivered"]
                    for url in urls.values()
                ),
                15,
                what="every endpoint delivered",
            )
        finally:
            assert srv.stop() in CLEAN_EXIT
        endpoints = {}
        for name, url in urls.items():
            [(delivery_id, status, attempts, _, _)] = deliveries(srv, url)
            endpoints[name] = Endpoint(
                receivers[name],
                receivers[name].requests,
                (status, attempts),
                db_rows(
                    srv.database_url,
                    "SELECT outcome, error FROM delivery_attempts WHERE delivery_id = :id"
                    " ORDER BY number",
                    id=delivery_id,
                ),
                planned,
            )
        return endpoints
    finally:
        for receiver in receivers.values():
            receiver.stop()


@pytest.mark.parametrize("name", PLANS)
def test_each_attempt_is_the_same_signed_event(
    flapped: dict[str, Endpoint], name: str, secret: str
) -> None:
    endpoint = flapped[name]
    assert len(endpoint.requests) == len(PLANS[name])  # none after the 200
    events = [verify(request, secret) for request in endpoint.requests]
    assert {(e["type"], e["data"]["id"]) for e in events} == {("release.published", RELEASE)}
    assert len({request.headers["webhook-id"] for request in endpoint.requests}) == 1


@pytest.mark.parametrize("name", PLANS)
def test_the_delivery_ends_delivered_after_its_failures(
    flapped: dict[str, Endpoint], name: str
) -> None:
    endpoint = flapped[name]
    plan = PLANS[name]
    assert endpoint.delivery == ("delivered", len(plan))
    outcomes = [outcome for outcome, _ in endpoint.attempts]
    assert outcomes == ["retry"] * (len(plan) - 1) + ["delivered"]
    for (status, delay), (_, error) in zip(plan, endpoint.attempts, strict=True):
        if delay:
            assert f"no answer within {TIMEOUT:g} s" in error, error
        elif status == 500:
            assert "500" in error, error
        else:
            assert error is None


def test_after_a_500_and_a_timeout_the_third_attempt_waits_about_5_minutes(
    flapped: dict[str, Endpoint],
) -> None:
    assert 270 <= flapped["error_timeout_ok"].third_attempt_planned_after <= 330
