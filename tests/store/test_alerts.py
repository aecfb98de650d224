"""Email alerts queued in the store (issue 16): the fan-out in the transaction that
publishes, its matching (frequency, sections, language), old news and embargoes, change
notes, withdrawals, digests per period, and alerts never claimed ahead of shares; on
SQLite, or on PostgreSQL in that run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from feedsvc.alerts.digests import run_digest
from feedsvc.config import database_url
from feedsvc.model import Outgoing
from feedsvc.service import announcing
from tests.conftest import Newsroom, db_rows, make_newsroom

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # the newsroom's clock


@pytest.fixture
def room(tmp_path: Path) -> Newsroom:
    room = make_newsroom(tmp_path, languages={"zh": {"title": "新闻办公室"}})
    announcing(room.store, room.settings)
    yield room
    room.store.close()


def subscriber(
    room: Newsroom,
    who: str = "one",
    frequency: str = "immediate",
    sections: list[str] | None = None,
    language: str | None = None,
    confirm: bool = True,
    at: dt.datetime = T0 - dt.timedelta(days=3),
) -> str:
    subs = room.store.subscribers
    sid = subs.request(
        f"hash-{who}", f"{who}@example.org", frequency, sections, language, at, "net", "f1"
    )
    if confirm:
        assert subs.confirm(sid, at)
    return sid


def text(title: str, section: str = "Health", extra: str = "", rid: str = "") -> str:
    ident = f'id = "{rid}"\n' if rid else ""
    return (
        f'+++\n{ident}title = "{title}"\nsection = "{section}"\n'
        f"date = 2026-11-27T09:00:00+08:00\n{extra}+++\n\nThe ministry said things.\n"
    )


def alerts(room: Newsroom) -> list[tuple[str, str, dict, str]]:
    """(target, subject, payload, status) of every alert delivery, by target."""
    rows = db_rows(
        database_url(room.settings),
        "SELECT target, subject, payload, status FROM deliveries WHERE channel = 'alert' "
        "ORDER BY target, id",
    )
    return [(t, s, json.loads(p), st) for t, s, p, st in rows]


def test_a_release_made_public_is_queued_for_each_matching_subscriber_once(room: Newsroom) -> None:
    everything = subscriber(room, "all")
    health = subscriber(room, "health", sections=["health", "trade"])
    trade = subscriber(room, "trade", sections=["trade"])
    subscriber(room, "daily", frequency="daily")
    subscriber(room, "pending", confirm=False)
    subscriber(room, "chinese", language="zh")
    room.write("a.md", text("Flu season"))
    changes = room.ingest().changes
    queued = alerts(room)
    assert sorted(t for t, *_ in queued) == sorted([everything, health])
    assert all(p == {"kind": "release", "release": "a", "note": None} for _, _, p, _ in queued)
    assert all(s == "a" and st == "pending" for _, s, _, st in queued)
    assert changes.enqueued >= 2
    # Read again (unchanged), and published again by hand: nothing is queued twice.
    room.ingest()
    room.store.releases.publish_due(room.clock.now())
    assert len(alerts(room)) == 2
    assert trade not in {t for t, *_ in alerts(room)}


def test_old_news_and_an_embargo_before_its_time_are_not_sent(room: Newsroom) -> None:
    sid = subscriber(room)
    room.write("old.md", text("Old", extra="").replace("2026-11-27", "2026-10-01"))
    lift = T0 + dt.timedelta(hours=2)
    room.write("later.md", text("Later", extra=f"publish_at = {lift.isoformat()}\n"))
    room.ingest()
    assert alerts(room) == []  # the old one is news to nobody; the other is embargoed
    room.clock.at = lift + dt.timedelta(seconds=1)
    room.store.releases.publish_due(room.clock.now())
    assert [(t, p["release"]) for t, _, p, _ in alerts(room)] == [(sid, "later")]


def test_an_edit_is_sent_only_with_a_new_change_note(room: Newsroom) -> None:
    subscriber(room)
    room.write("a.md", text("Flu season"))
    room.ingest()
    room.write("a.md", text("Flu season, corrected"))
    room.ingest()
    assert len(alerts(room)) == 1  # an edit without a note: not sent again
    note = 'change_note = "The figures for November were corrected."\n'
    room.write("a.md", text("Flu season, corrected again", extra=note))
    room.ingest()
    updates = [p for _, _, p, _ in alerts(room) if p["note"]]
    assert updates == [
        {"kind": "release", "release": "a", "note": "The figures for November were corrected."}
    ]
    room.write("a.md", text("Flu season, a typo fixed", extra=note))  # the same note
    room.ingest()
    assert len(alerts(room)) == 2


def test_a_release_withdrawn_before_its_alerts_went_out_is_not_sent(room: Newsroom) -> None:
    subscriber(room, "one")
    subscriber(room, "two")
    path = room.write("a.md", text("Flu season"))
    room.ingest()
    path.unlink()
    room.ingest()
    assert [st for *_, st in alerts(room)] == ["cancelled", "cancelled"]


def test_a_section_in_another_script_is_matched_by_its_own_slug(room: Newsroom) -> None:
    sid = subscriber(room, "zh", sections=["外交部新闻"], language="zh")
    subscriber(room, "en-only", sections=["外交部新闻"])  # same slug, other language
    room.write("b.zh.md", text("外交部发言人答记者问", section="外交部新闻", rid="b"))
    room.ingest()
    assert [(t, p["release"]) for t, _, p, _ in alerts(room)] == [(sid, "b@zh")]


def test_digests_list_what_matched_once_a_period_and_nothing_when_nothing_did(
    room: Newsroom,
) -> None:
    rules, tz = room.settings.alerts, room.settings.site.tz
    daily = subscriber(room, "daily", frequency="daily")
    subscriber(room, "daily-trade", frequency="daily", sections=["trade"])
    weekly = subscriber(room, "weekly", frequency="weekly")
    room.write("a.md", text("Flu season"))
    room.ingest()
    assert alerts(room) == []  # no immediate subscriber
    # 08:00 in Shanghai on the 28th is 00:00 UTC.
    next_day = dt.datetime(2026, 11, 28, 0, 5, tzinfo=dt.UTC)
    run = run_digest(room.store, "daily", next_day, rules, tz)
    assert (run.period, run.queued, run.already) == ("2026-11-28", 1, False)
    [(target, subject, payload, _)] = alerts(room)
    assert (target, subject, payload["kind"], payload["frequency"]) == (
        daily,
        "digest",
        "digest",
        "daily",
    )
    since = dt.datetime.fromisoformat(payload["since"]).replace(tzinfo=dt.UTC)
    until = dt.datetime.fromisoformat(payload["until"])
    assert since == T0 - dt.timedelta(days=3)  # confirmed then: no digest before
    assert until == dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
    [item] = room.store.alerts.digest_items("", None, since, until)
    assert (item.release.release.key, item.note) == ("a", None)
    assert room.store.alerts.digest_items("", ["trade"], since, until) == []
    # The same period again (a restart, a second instance): nothing more.
    assert run_digest(room.store, "daily", next_day + dt.timedelta(hours=3), rules, tz).already
    # The next day nothing new matched: no digest at all.
    day_after = next_day + dt.timedelta(days=1)
    assert run_digest(room.store, "daily", day_after, rules, tz).queued == 0
    # Weekly: Monday 30 November at 08:00 Shanghai; the release is in it.
    monday = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
    week = run_digest(room.store, "weekly", monday, rules, tz)
    assert (week.period, week.queued) == ("2026-W49", 1)
    assert weekly in {t for t, *_ in alerts(room)}


def test_a_missed_digest_lists_everything_since_the_last_one(room: Newsroom) -> None:
    rules, tz = room.settings.alerts, room.settings.site.tz
    subscriber(room, "daily", frequency="daily")
    room.write("a.md", text("Flu season"))
    room.ingest()
    # Down for three days: the first look after start sends one digest, not three.
    later = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    run = run_digest(room.store, "daily", later, rules, tz)
    assert (run.period, run.queued) == ("2026-12-01", 1)
    [(_, _, payload, _)] = alerts(room)
    since = dt.datetime.fromisoformat(payload["since"]).replace(tzinfo=dt.UTC)
    [item] = room.store.alerts.digest_items(
        "", None, since, dt.datetime.fromisoformat(payload["until"])
    )
    assert item.release.release.key == "a"


def test_shares_and_webhooks_are_claimed_before_a_fan_out_of_alerts(room: Newsroom) -> None:
    for n in range(30):
        subscriber(room, f"s{n}")
    room.write("a.md", text("Flu season"))
    room.ingest()
    later = room.clock.now() + dt.timedelta(seconds=1)
    share = Outgoing("email", "friend@example.org", {"to": "friend@example.org"}, "share x 1")
    room.store.outbox.enqueue([share], later)
    lease = dt.timedelta(minutes=5)
    [first] = room.store.outbox.claim_due(later, 1, lease).deliveries
    assert first.channel == "email"  # queued last, claimed first
    rest = room.store.outbox.claim_due(later, 5, lease).deliveries
    assert [d.channel for d in rest] == ["alert"] * 5


def test_a_subscriber_may_follow_tags_as_well_as_sections(room: Newsroom) -> None:
    # Issue 17: "tag:<slug>" in what a subscriber follows; immediate alerts, digests and
    # their lists match a release by its section or by any of its tags.
    rules, tz = room.settings.alerts, room.settings.site.tz
    vaccines = subscriber(room, "vaccines", sections=["tag:vaccines"])
    subscriber(room, "trade-tag", sections=["tag:trade"])
    either = subscriber(room, "either", sections=["trade", "tag:vaccines"])
    daily = subscriber(room, "daily", frequency="daily", sections=["tag:vaccines"])
    subscriber(room, "daily-other", frequency="daily", sections=["tag:trade"])
    room.write("a.md", text("Flu season", extra='tags = ["Vaccines", "Winter"]\n'))
    room.write("b.md", text("Untagged"))
    room.ingest()
    assert sorted((t, p["release"]) for t, _, p, _ in alerts(room)) == sorted(
        [(vaccines, "a"), (either, "a")]
    )
    next_day = dt.datetime(2026, 11, 28, 0, 5, tzinfo=dt.UTC)
    assert run_digest(room.store, "daily", next_day, rules, tz).queued == 1
    assert daily in {t for t, s, *_ in alerts(room) if s == "digest"}
    since, until = T0 - dt.timedelta(days=3), next_day
    listed = room.store.alerts.digest_items("", ["tag:vaccines"], since, until)
    assert [i.release.release.key for i in listed] == ["a"]
    assert room.store.alerts.digest_items("", ["tag:trade"], since, until) == []
    both = room.store.alerts.digest_items("", ["health", "tag:vaccines"], since, until)
    assert sorted(i.release.release.key for i in both) == ["a", "b"]
