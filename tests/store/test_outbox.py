from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from feedsvc.model import Outgoing
from feedsvc.store import Store
from feedsvc.store.outbox import Outbox
from tests.conftest import new_database_url

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    store = Store.open(new_database_url(tmp_path))
    yield store.outbox
    store.close()


def email(n: int, key: str | None = None) -> Outgoing:
    return Outgoing("email", f"friend{n}@example.org", {"n": n}, key or f"share {n}")


def test_enqueue_is_idempotent_on_the_key(outbox: Outbox) -> None:
    assert outbox.enqueue([email(1), email(2)], NOW) == 2
    assert outbox.enqueue([email(1), email(3)], NOW) == 1
    assert outbox.enqueue([email(4), email(4)], NOW) == 1
    assert sorted(d.payload["n"] for d in outbox.list()) == [1, 2, 3, 4]
    assert outbox.counts() == {("email", "pending"): 4}


def test_claim_takes_due_rows_once_with_a_lease(outbox: Outbox) -> None:
    outbox.enqueue([email(n) for n in range(5)], NOW)
    first = outbox.claim_due(NOW, 3, LEASE)
    assert [d.payload["n"] for d in first.deliveries] == [0, 1, 2]
    assert all(d.status == "sending" and d.attempts == 1 for d in first.deliveries)
    second = outbox.claim_due(NOW, 10, LEASE)
    assert [d.payload["n"] for d in second.deliveries] == [3, 4]
    assert outbox.claim_due(NOW, 10, LEASE).deliveries == []
    assert first.token != second.token


def test_rows_not_yet_due_are_not_claimed(outbox: Outbox) -> None:
    outbox.enqueue([email(1)], NOW + dt.timedelta(seconds=30))
    assert outbox.claim_due(NOW, 10, LEASE).deliveries == []
    assert len(outbox.claim_due(NOW + dt.timedelta(seconds=30), 10, LEASE).deliveries) == 1


def test_an_expired_lease_makes_the_row_claimable_again(outbox: Outbox) -> None:
    outbox.enqueue([email(1)], NOW)
    dead_sender = outbox.claim_due(NOW, 10, LEASE)
    assert outbox.claim_due(NOW + LEASE - dt.timedelta(seconds=1), 10, LEASE).deliveries == []
    later = NOW + LEASE
    taken_over = outbox.claim_due(later, 10, LEASE)
    [delivery] = taken_over.deliveries
    assert delivery.attempts == 2 and delivery.key == dead_sender.deliveries[0].key
    # The sender that lost its lease cannot record an outcome any more...
    assert not outbox.record_delivered(dead_sender.deliveries[0], dead_sender, later)
    # ...the one holding it can.
    assert outbox.record_delivered(delivery, taken_over, later)
    got = outbox.get(delivery.id)
    assert got is not None and got.status == "delivered" and got.delivered_at == later
    attempts = outbox.attempts(delivery.id)
    assert [(a.number, a.outcome) for a in attempts] == [(1, "interrupted"), (2, "delivered")]
    assert "lease expired" in (attempts[0].error or "")


def test_failure_reschedules_or_kills_and_keeps_the_error(outbox: Outbox) -> None:
    outbox.enqueue([email(1), email(2)], NOW)
    claim = outbox.claim_due(NOW, 10, LEASE)
    a, b = claim.deliveries
    retry_at = NOW + dt.timedelta(seconds=5)
    assert outbox.record_failure(a, claim, NOW, "451 try later", retry_at)
    assert outbox.record_failure(b, claim, NOW, "550 no such user", None)
    got_a, got_b = outbox.get(a.id), outbox.get(b.id)
    assert (got_a.status, got_a.next_attempt_at, got_a.last_error) == (
        "pending",
        retry_at,
        "451 try later",
    )
    assert (got_b.status, got_b.last_error) == ("dead", "550 no such user")
    assert outbox.claim_due(NOW, 10, LEASE).deliveries == []
    assert [d.id for d in outbox.claim_due(retry_at, 10, LEASE).deliveries] == [a.id]


def test_release_gives_back_unsent_claims_without_counting_an_attempt(outbox: Outbox) -> None:
    outbox.enqueue([email(1)], NOW)
    claim = outbox.claim_due(NOW, 10, LEASE)
    assert outbox.release(claim.deliveries, claim, NOW) == 1
    [again] = outbox.claim_due(NOW, 10, LEASE).deliveries
    assert again.attempts == 1


def test_retry_and_cancel_by_hand(outbox: Outbox) -> None:
    outbox.enqueue([email(1), email(2), email(3)], NOW)
    claim = outbox.claim_due(NOW, 10, LEASE)
    for d in claim.deliveries[:2]:
        outbox.record_failure(d, claim, NOW, "550", None)
    outbox.record_delivered(claim.deliveries[2], claim, NOW)
    assert outbox.retry(NOW, None) == 2  # every dead one
    assert {d.status for d in outbox.list(status="pending")} == {"pending"}
    first = claim.deliveries[0].id
    assert outbox.cancel(first, NOW)
    assert not outbox.cancel(claim.deliveries[2].id, NOW)  # delivered: nothing to cancel
    assert outbox.get(first).status == "cancelled"
    assert outbox.retry(NOW, [first]) == 1
    got = outbox.get(first)
    assert (got.status, got.attempts) == ("pending", 0)


def test_purge_forgets_only_finished_old_deliveries(outbox: Outbox) -> None:
    outbox.enqueue([email(1), email(2), email(3)], NOW)
    claim = outbox.claim_due(NOW, 10, LEASE)
    outbox.record_delivered(claim.deliveries[0], claim, NOW)
    outbox.record_failure(claim.deliveries[1], claim, NOW, "550", None)
    outbox.release(claim.deliveries[2:], claim, NOW)
    assert outbox.purge(NOW) == 0
    # Delivered and dead (issue 11: a dead email kept its address for ever), not pending.
    assert outbox.purge(NOW + dt.timedelta(seconds=1)) == 2
    assert outbox.attempts(claim.deliveries[0].id) == []
    assert outbox.attempts(claim.deliveries[1].id) == []
    assert [d.status for d in outbox.list()] == ["pending"]


def test_a_second_ping_for_a_waiting_topic_is_not_stored(outbox: Outbox) -> None:
    def ping(hub: str, topic: str, n: int) -> Outgoing:
        return Outgoing("websub", hub, {"topic": topic}, f"ping {n}", subject=topic)

    assert outbox.enqueue([ping("https://hub/", "https://x/feed.xml", 1)], NOW) == 1
    assert outbox.enqueue([ping("https://hub/", "https://x/feed.xml", 2)], NOW) == 0
    assert outbox.enqueue([ping("https://hub2/", "https://x/feed.xml", 3)], NOW) == 1
    claim = outbox.claim_due(NOW, 10, LEASE)
    for d in claim.deliveries:
        outbox.record_delivered(d, claim, NOW)
    # Once sent, the next change is pinged again.
    assert outbox.enqueue([ping("https://hub/", "https://x/feed.xml", 4)], NOW) == 1


def test_disabled_endpoint_gets_nothing_until_enabled(outbox: Outbox) -> None:
    url = "https://hooks.example.org/in"

    def hook(n: int) -> Outgoing:
        return Outgoing("webhook", url, {"type": "release.published"}, f"hook {n}")

    outbox.enqueue([hook(1)], NOW)
    assert outbox.endpoint_failed(url, NOW) == NOW
    assert outbox.endpoint_failed(url, NOW + dt.timedelta(hours=1)) == NOW
    assert outbox.disabled_endpoints() == 0  # failing is not disabled
    assert outbox.disable_endpoint(url, NOW, "it answered 410 Gone") == 1
    assert outbox.disabled_endpoints() == 1  # the /metrics gauge
    assert outbox.get(1).status == "cancelled"
    assert outbox.enqueue([hook(2)], NOW) == 0
    [endpoint] = outbox.endpoints()
    assert endpoint.disabled_reason == "it answered 410 Gone"
    assert outbox.enable_endpoint(url)
    assert outbox.disabled_endpoints() == 0
    assert outbox.enqueue([hook(3)], NOW) == 1
    assert outbox.endpoints()[0].failing_since is None


def test_concurrent_claimers_never_share_a_row(tmp_path: Path) -> None:
    url = new_database_url(tmp_path)
    store = Store.open(url)
    store.outbox.enqueue([email(n) for n in range(600)], NOW)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    start = threading.Barrier(6)

    def claimer() -> None:
        mine = Store.open(url)
        got: list[int] = []
        try:
            start.wait()
            while batch := mine.outbox.claim_due(NOW, 7, LEASE).deliveries:
                got += [d.id for d in batch]
                time.sleep(0.001)  # a send takes a while: the others get their turn
        except BaseException as e:  # surfaced below
            errors.append(e)
        finally:
            mine.close()
            claimed.append(got)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert not errors
    everything = [i for got in claimed for i in got]
    assert len(everything) == len(set(everything)) == 600
    assert sum(1 for got in claimed if got) > 1  # they really did run side by side
