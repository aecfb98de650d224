"""The ShareStore on its own (issue 13): the SQL of shares, limits, spent tokens, stats and
erasure, on the suite's database (SQLite or PostgreSQL), without the desk in front."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from feedsvc.config import ShareSettings
from feedsvc.model import Outgoing
from feedsvc.store.shares import PendingShare, Refusal, ShareStore
from tests.conftest import Newsroom, make_newsroom

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    room.add("news.txt", "Big news", "November 26, 2026")
    room.add("other.txt", "Other news", "November 25, 2026")
    room.write(
        "later.md",
        '+++\ntitle = "Later"\ndate = 2026-12-30T09:00:00Z\nsection = "S"\n'
        "publish_at = 2026-12-30T09:00:00Z\n+++\nSecret.\n",
    )
    room.ingest()
    yield room
    room.store.close()


@pytest.fixture
def shares(room: Newsroom) -> ShareStore:
    return ShareStore(room.store.engine)


@pytest.fixture
def rules(room: Newsroom) -> ShareSettings:
    return room.settings.share


def rows(room: Newsroom, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with room.store.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


_made = iter(range(1, 1_000_000))


def share(
    release: str = "news",
    *,
    to: tuple[str, ...] = ("friend",),
    ip: str = "ip-1",
    sender: str | None = "ana",
    nonce: str | None = None,
    trapped: bool = False,
) -> PendingShare:
    """A checked request; `to` and `sender` stand for the keyed hashes of addresses."""
    n = next(_made)
    share_id = f"s{n}"
    emails = [
        (h, Outgoing("email", f"{h}@example.org", {"n": n}, f"share {share_id} {h}", share_id))
        for h in to
    ]
    return PendingShare(
        id=share_id,
        release_id=release,
        nonce=nonce or f"nonce-{n}",
        ip_hash=ip,
        sender_name="Ana" if sender else None,
        sender_email=f"{sender}@example.net" if sender else None,
        sender_hash=sender,
        message="Worth a read.",
        emails=emails,
        trapped=trapped,
    )


def emails(room: Newsroom) -> list[str]:
    return sorted(d.target for d in room.store.outbox.list(channel="email", limit=1000))


def test_a_batch_is_stored_with_its_emails(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    batch = [share(to=("r1", "r2")), share("other", ip="ip-2", sender=None)]
    assert shares.accept(batch, T0, rules) == [None, None]
    first = shares.get(batch[0].id)
    assert first is not None
    assert (first[0], first[1].replace(tzinfo=dt.UTC), first[2]) == ("news", T0, 2)
    assert emails(room) == ["friend@example.org", "r1@example.org", "r2@example.org"]
    spent = rows(room, "SELECT nonce FROM used_tokens ORDER BY nonce")
    assert spent == sorted((s.nonce,) for s in batch)
    # The sharer's own address is not kept (issue 11): only its keyed hash.
    assert rows(room, "SELECT sender_email FROM shares") == [(None,), (None,)]


def test_only_a_visible_release_can_be_shared(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    batch = [share("later"), share("nothing-by-that-name"), share()]
    assert shares.accept(batch, T0, rules) == [Refusal("release"), Refusal("release"), None]
    assert emails(room) == ["friend@example.org"]
    assert shares.get(batch[0].id) is None


def test_a_token_is_spent_once(room: Newsroom, shares: ShareStore, rules: ShareSettings) -> None:
    assert shares.accept([share(nonce="n"), share(nonce="n", to=("r2",))], T0, rules) == [
        None,
        Refusal("token"),
    ]
    assert shares.accept([share(nonce="n", to=("r3",))], T0, rules) == [Refusal("token")]
    assert emails(room) == ["friend@example.org"]


def test_a_refused_share_does_not_spend_its_token(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    assert shares.accept([share("later", nonce="n")], T0, rules) == [Refusal("release")]
    assert shares.accept([share(nonce="n")], T0, rules) == [None]


def test_the_per_ip_limit_counts_the_batch_and_the_hour_before(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    rules = dataclasses.replace(rules, per_ip_per_hour=2)
    assert shares.accept([share()], T0, rules) == [None]
    later = T0 + dt.timedelta(minutes=20)
    outcome = shares.accept([share(to=("r2",)), share(to=("r3",)), share(ip="ip-2")], later, rules)
    # The oldest of the two leaves the hour at T0 + 1 h, 40 minutes on: then one more.
    assert outcome == [None, Refusal("limit", 40 * 60 + 1, "per_ip_per_hour"), None]
    after = T0 + dt.timedelta(hours=1, seconds=1)
    assert shares.accept([share(to=("r4",)), share(to=("r5",))], after, rules) == [
        None,
        Refusal("limit", 20 * 60, "per_ip_per_hour"),
    ]


def test_a_batch_admits_what_one_at_a_time_would(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    rules = dataclasses.replace(rules, per_ip_per_hour=2)
    outcome = shares.accept([share(to=(f"r{n}",)) for n in range(4)], T0, rules)
    assert [r and r.limit for r in outcome] == [None, None, "per_ip_per_hour", "per_ip_per_hour"]
    assert len(emails(room)) == 2


def test_the_per_sender_and_per_recipient_limits_count_a_day(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    rules = dataclasses.replace(
        rules, per_ip_per_hour=100, per_sender_per_day=2, per_recipient_per_day=1
    )
    assert shares.accept([share(to=("bob",), sender="ana")], T0, rules) == [None]
    later = T0 + dt.timedelta(hours=23)
    outcome = shares.accept(
        [
            share(to=("bob",), sender="eve"),  # bob had his one today
            share(to=("r2",), sender="ana"),
            share(to=("r3",), sender="ana"),  # ana's third today
            share(to=("r4",), sender=None),  # no sender address: no sender limit
        ],
        later,
        rules,
    )
    assert outcome == [
        Refusal("limit", 3600, "per_recipient_per_day"),
        None,
        Refusal("limit", 3600, "per_sender_per_day"),
        None,
    ]
    next_day = T0 + dt.timedelta(days=1, seconds=1)
    assert shares.accept([share(to=("bob",), sender="eve")], next_day, rules) == [None]


def test_the_global_limit_counts_every_share_of_the_hour(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    rules = dataclasses.replace(rules, global_per_hour=3)

    def one(ip: str) -> PendingShare:
        return share(ip=ip, to=(f"to-{ip}",), sender=None)  # no other limit near

    assert shares.accept([one("a"), one("b")], T0, rules) == [None, None]
    later = T0 + dt.timedelta(minutes=30)
    assert shares.accept([one("c"), one("d")], later, rules) == [
        None,
        Refusal("limit", 600, "global_per_hour"),
    ]
    # The minute that holds the hour's start counts whole: the limit errs by a minute.
    refused = shares.accept([one("e")], T0 + dt.timedelta(minutes=60), rules)
    assert refused == [Refusal("limit", 600, "global_per_hour")]


def test_the_global_limit_forgets_the_hour_before(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    rules = dataclasses.replace(rules, global_per_hour=2)
    assert shares.accept([share(ip="a", to=("r1",)), share(ip="b", to=("r2",))], T0, rules) == [
        None,
        None,
    ]
    later = T0 + dt.timedelta(minutes=61)
    assert shares.accept([share(ip="c", to=("r3",))], later, rules) == [None]


def test_a_trapped_share_is_stored_and_keeps_and_sends_nothing(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    trapped = share(to=("r1",), trapped=True)
    assert shares.accept([trapped], T0, rules) == [None]
    assert emails(room) == []
    assert rows(room, "SELECT sender_name, sender_hash, message, trapped FROM shares") == [
        (None, None, None, 1)
    ]
    assert rows(room, "SELECT count(*) FROM share_recipients") == [(0,)]
    assert shares.stats() == [] and shares.totals() == (0, 0)
    # It still spends its token and counts against its network's limit.
    assert shares.accept([share(nonce=trapped.nonce)], T0, rules) == [Refusal("token")]


def test_a_suppressed_recipient_gets_nothing_and_stats_say_so(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    shares.suppress("gone", T0)
    shares.suppress("gone", T0)  # twice is once
    assert shares.is_suppressed("gone") and not shares.is_suppressed("friend")
    assert shares.accept([share(to=("gone", "friend"))], T0, rules) == [None]
    assert emails(room) == ["friend@example.org"]
    assert shares.stats() == [("news", 1, 1, 0)]


def test_suppressing_cancels_what_is_queued_and_forgets_it(
    room: Newsroom, shares: ShareStore, rules: ShareSettings
) -> None:
    assert shares.accept([share(to=("late", "friend"))], T0, rules) == [None]
    shares.suppress("late", T0 + dt.timedelta(minutes=1))
    cancelled = rows(room, "SELECT target, payload FROM deliveries WHERE status = 'cancelled'")
    assert cancelled == [("", "{}")]
    assert emails(room) == ["", "friend@example.org"]


def test_stats_clicks_and_totals(room: Newsroom, shares: ShareStore, rules: ShareSettings) -> None:
    batch = [share(to=("a", "b"), ip="1"), share(ip="2"), share("other", ip="3")]
    assert shares.accept(batch, T0, rules) == [None, None, None]
    assert shares.click(batch[2].id) == "other"
    assert shares.click(batch[2].id) == "other"
    assert shares.click(batch[0].id) == "news"
    assert shares.click("no-such-share") is None
    assert shares.stats() == [("news", 2, 3, 1), ("other", 1, 1, 2)]  # the most shared first
    assert shares.totals() == (3, 3)


def test_erasure_after_retention(room: Newsroom, shares: ShareStore, rules: ShareSettings) -> None:
    old, recent = share(to=("r1",), ip="1"), share(to=("r2",), ip="2")
    assert shares.accept([old], T0, rules) == [None]
    assert shares.accept([recent], T0 + dt.timedelta(days=20), rules) == [None]
    rows(room, "UPDATE deliveries SET status = 'delivered', updated_at = :at", at=T0)
    before = T0 + dt.timedelta(days=10)
    assert shares.erase(before, tokens_before=before) == (1, 2)
    kept = rows(
        room, "SELECT id, sender_name, sender_hash, message, ip_hash FROM shares ORDER BY id"
    )
    erased = {share_id: fields for share_id, *fields in kept}
    assert erased[old.id] == [None, None, None, None]
    assert erased[recent.id] == ["Ana", "ana", "Worth a read.", "2"]
    assert rows(room, "SELECT target, payload FROM deliveries") == [("", "{}"), ("", "{}")]
    # A spent token older than tokens_before is forgotten (it is too old to be used anyway).
    assert rows(room, "SELECT nonce FROM used_tokens") == [(recent.nonce,)]
    assert shares.stats() == [("news", 2, 2, 0)]  # the counts stay
    assert shares.erase(before, tokens_before=before) == (0, 0)  # once
