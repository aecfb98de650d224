"""Subscribers of email alerts in the store (issue 16): double opt-in, the consent record,
changes, leaving, bounces, and a person's data exported and erased; on SQLite, or on
PostgreSQL in that run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from feedsvc.config import database_url
from feedsvc.store.schema import subscribers
from feedsvc.store.subscribers import Subscribers
from tests.conftest import Newsroom, db_rows

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def ask(
    subs: Subscribers,
    who: str = "h1",
    frequency: str = "daily",
    sections: list[str] | None = None,
    at: dt.datetime = T0,
    network: str = "192.0.2.0/24",
) -> str:
    return subs.request(who, f"{who}@example.org", frequency, sections, "en", at, network, "f1")


def rows(room: Newsroom) -> list[tuple]:
    return db_rows(database_url(room.settings), "SELECT * FROM subscribers")


def test_a_request_is_pending_until_confirmed_and_the_consent_is_recorded(
    newsroom: Newsroom,
) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs, sections=["news", "health", "news"])
    assert len(sid) == 32
    pending = subs.get(sid)
    assert pending is not None
    assert (pending.status, pending.address, pending.frequency) == (
        "pending",
        "h1@example.org",
        "daily",
    )
    assert pending.sections == ("health", "news")
    assert (pending.consent_at, pending.confirmed_at, pending.consent_basis) == (None, None, None)
    later = T0 + dt.timedelta(hours=2)
    assert subs.confirm(sid, later)
    confirmed = subs.get(sid)
    assert confirmed is not None
    assert confirmed.status == "confirmed"
    assert (confirmed.confirmed_at, confirmed.consent_at) == (later, later)
    assert (confirmed.consent_network, confirmed.consent_form) == ("192.0.2.0/24", "f1")
    assert confirmed.consent_basis == "double-opt-in"
    assert subs.confirm(sid, later)  # the link followed twice
    assert not subs.confirm("0" * 32, later)


def test_a_pending_request_asked_again_takes_the_new_choices(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    first = ask(subs)
    again = ask(subs, frequency="weekly", sections=["news"], at=T0 + dt.timedelta(days=1))
    assert again == first
    row = subs.get(first)
    assert row is not None
    assert (row.frequency, row.sections, row.created_at) == ("weekly", ("news",), T0)
    assert len(rows(newsroom)) == 1


def test_asking_again_for_a_confirmed_address_changes_nothing(newsroom: Newsroom) -> None:
    """Issue 16: a known address is answered as a new one, and its subscription is not
    touched (no way to learn who subscribes, nor to change someone's choices)."""
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.confirm(sid, T0)
    before = rows(newsroom)
    again = ask(subs, frequency="immediate", sections=["x"], at=T0 + dt.timedelta(days=1))
    assert again == sid  # the same kind of answer as for a new address
    assert rows(newsroom) == before


def test_one_who_left_asks_anew_with_a_new_id(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.confirm(sid, T0)
    assert subs.unsubscribe(sid, T0)
    fresh = ask(subs, at=T0 + dt.timedelta(days=3))
    assert fresh != sid
    assert subs.get(sid) is None
    row = subs.get(fresh)
    assert row is not None
    assert (row.status, row.consent_at, row.address) == ("pending", None, "h1@example.org")
    assert not subs.confirm(sid, T0)  # an old link stays dead


def test_change_unsubscribe_and_complaint(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.confirm(sid, T0)
    assert subs.change(sid, "weekly", None, T0)
    row = subs.get(sid)
    assert row is not None
    assert (row.frequency, row.sections) == ("weekly", None)
    with pytest.raises(ValueError, match="frequency"):
        subs.change(sid, "hourly", None, T0)
    assert subs.unsubscribe(sid, T0)
    left = subs.get(sid)
    assert left is not None
    assert (left.status, left.address) == ("unsubscribed", None)
    assert not subs.change(sid, "daily", None, T0)
    other = ask(subs, who="h2")
    subs.confirm(other, T0)
    assert subs.complaint(other, T0)
    complained = subs.get(other)
    assert complained is not None
    assert (complained.status, complained.address) == ("unsubscribed", None)


def test_erase_leaves_nothing_and_export_shows_everything(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs, sections=["news"])
    ask(subs, who="h2")
    subs.confirm(sid, T0)
    kept = subs.export("h1")
    assert kept is not None
    assert kept["address"] == "h1@example.org"
    assert kept["sections"] == ["news"]
    assert kept["consent_at"] == T0.isoformat()
    assert kept["consent_network"] == "192.0.2.0/24"
    assert set(kept) == {column.name for column in subscribers.columns}
    assert subs.erase("h1")
    assert not subs.erase("h1")
    assert subs.export("h1") is None
    url = database_url(newsroom.settings)
    assert db_rows(url, "SELECT count(*) FROM subscribers WHERE address_hash = 'h1'") == [(0,)]
    assert db_rows(url, "SELECT count(*) FROM subscribers WHERE id = :i", i=sid) == [(0,)]
    assert db_rows(url, "SELECT address_hash FROM subscribers") == [("h2",)]


def test_forget_unconfirmed_erases_only_pending_requests_older_than_the_limit(
    newsroom: Newsroom,
) -> None:
    subs = newsroom.store.subscribers
    limit = T0
    ask(subs, who="old", at=T0 - dt.timedelta(seconds=1))
    ask(subs, who="edge", at=T0)  # exactly at the limit: kept
    ask(subs, who="new", at=T0 + dt.timedelta(seconds=1))
    kept = ask(subs, who="confirmed", at=T0 - dt.timedelta(days=30))
    subs.confirm(kept, T0 - dt.timedelta(days=30))
    # Asked again before the limit ran out: the clock of its link starts again.
    ask(subs, who="renewed", at=T0 - dt.timedelta(days=8))
    ask(subs, who="renewed", at=T0)
    assert subs.forget_unconfirmed(limit) == 1
    url = database_url(newsroom.settings)
    left = {h for (h,) in db_rows(url, "SELECT address_hash FROM subscribers")}
    assert left == {"edge", "new", "confirmed", "renewed"}


@pytest.mark.parametrize(
    ("bounces", "expected"),
    [
        ([True], ["suspended"]),
        ([False] * 4, ["confirmed"] * 4),
        ([False] * 5, ["confirmed"] * 4 + ["suspended"]),
    ],
)
def test_bounces_suspend_past_the_limits(
    newsroom: Newsroom, bounces: list[bool], expected: list[str]
) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.confirm(sid, T0)
    statuses = [subs.record_bounce(sid, hard, 1, 5, T0) for hard in bounces]
    assert statuses == expected
    row = subs.get(sid)
    assert row is not None
    assert (row.hard_bounces, row.soft_bounces) == (bounces.count(True), bounces.count(False))
    assert subs.record_bounce("0" * 32, True, 1, 5, T0) is None


def test_a_bounce_does_not_bring_back_one_who_left(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.unsubscribe(sid, T0)
    assert subs.record_bounce(sid, True, 1, 5, T0) == "unsubscribed"


def test_list_and_counts(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    a = ask(subs, who="a", frequency="daily", at=T0)
    b = ask(subs, who="b", frequency="weekly", at=T0 + dt.timedelta(minutes=1))
    ask(subs, who="c", frequency="daily", at=T0 + dt.timedelta(minutes=2))
    subs.confirm(a, T0)
    subs.confirm(b, T0)
    assert [s.address_hash for s in subs.list()] == ["a", "b", "c"]
    assert [s.address_hash for s in subs.list(status="confirmed")] == ["a", "b"]
    assert [s.address_hash for s in subs.list(limit=1)] == ["a"]
    assert subs.counts() == {
        ("confirmed", "daily"): 1,
        ("confirmed", "weekly"): 1,
        ("pending", "daily"): 1,
    }


def test_a_suspended_address_asking_again_stays_suspended(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    sid = ask(subs)
    subs.confirm(sid, T0)
    assert subs.record_bounce(sid, True, 1, 5, T0) == "suspended"
    before = rows(newsroom)
    assert ask(subs, at=T0 + dt.timedelta(days=1)) == sid
    assert rows(newsroom) == before


def test_one_row_per_address(newsroom: Newsroom) -> None:
    ask(newsroom.store.subscribers)
    with pytest.raises(IntegrityError):
        db_rows(
            database_url(newsroom.settings),
            "INSERT INTO subscribers (id, address_hash, frequency, status, created_at, "
            "hard_bounces, soft_bounces, updated_at) VALUES ('x', 'h1', 'daily', 'pending', "
            "'2026-11-27 12:00:00', 0, 0, '2026-11-27 12:00:00')",
        )
