from __future__ import annotations

import datetime as dt
import random

import pytest

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.outbox.policy import DEFAULT_DELAYS, RetryPolicy

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def waits(policy: RetryPolicy, error: TransientFailure) -> list[float | None]:
    out: list[float | None] = []
    for attempts in range(1, 12):
        when = policy.decide(attempts, error, NOW)
        out.append(None if when is None else (when - NOW).total_seconds())
    return out


def test_default_schedule_without_jitter_is_the_documented_one() -> None:
    policy = RetryPolicy(jitter=0)
    assert waits(policy, TransientFailure("down")) == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
        None,
        None,
        None,
        None,
    ]
    # From the first attempt to the last: about 27 hours, then dead.
    assert sum(DEFAULT_DELAYS) / 3600 == pytest.approx(27.58, abs=0.01)
    assert policy.max_attempts == 8


def test_jitter_stays_within_its_share_and_spreads_retries() -> None:
    policy = RetryPolicy(jitter=0.1, rng=random.Random(7))
    seen = {
        (policy.decide(3, TransientFailure("x"), NOW) - NOW).total_seconds() for _ in range(200)
    }
    assert all(1620 <= s <= 1980 for s in seen)
    assert len(seen) > 150  # not all at the same second


def test_permanent_failure_is_dead_at_once() -> None:
    assert RetryPolicy().decide(1, PermanentFailure("550 no such user"), NOW) is None


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    policy = RetryPolicy(jitter=0)
    when = policy.decide(1, TransientFailure("429", retry_after=120), NOW)
    assert when == NOW + dt.timedelta(seconds=120)
    # ...but a shorter one does not shorten the backoff,
    when = policy.decide(3, TransientFailure("503", retry_after=1), NOW)
    assert when == NOW + dt.timedelta(seconds=1800)
    # ...and an absurd one is capped at the longest wait of the schedule.
    when = policy.decide(1, TransientFailure("429", retry_after=10**9), NOW)
    assert when == NOW + dt.timedelta(seconds=36000)


def test_retry_after_never_revives_a_delivery_out_of_attempts() -> None:
    assert RetryPolicy().decide(8, TransientFailure("429", retry_after=5), NOW) is None


def test_policy_is_pure() -> None:
    a = RetryPolicy(rng=random.Random(1))
    b = RetryPolicy(rng=random.Random(1))
    errors = [TransientFailure("x")] * 5
    assert [a.decide(n, e, NOW) for n, e in enumerate(errors, 1)] == [
        b.decide(n, e, NOW) for n, e in enumerate(errors, 1)
    ]
