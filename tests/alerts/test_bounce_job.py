"""The bounce job on a real maildir and a real store (issue 16): RFC 3464 notifications and
RFC 5965 complaints, built as Postfix, Exim and a feedback loop write them, addressed to
the VERP return paths of stored subscribers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import mailbox
from pathlib import Path

from feedsvc.alerts.bounce_job import read_bounces
from feedsvc.alerts.bounces import return_path
from feedsvc.alerts.tokens import verp_key
from feedsvc.config import AlertSettings
from feedsvc.sharing.keys import Signer
from tests.alerts.test_bounces import (
    arf_complaint,
    exim_delayed,
    postfix_expired,
    postfix_hard,
    vacation_reply,
)
from tests.conftest import Newsroom

T0 = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
DOMAIN = "press.example.org"
KEY = verp_key(Signer(b"k" * 32))
RULES = AlertSettings()  # 1 hard or 5 soft bounces suspend


def confirmed(room: Newsroom, name: str) -> str:
    subs = room.store.subscribers
    sid = subs.request(f"hash-{name}", f"{name}@example.net", "daily", None, None, T0, "n", "f")
    assert subs.confirm(sid, T0)
    return sid


def maildir(room: Newsroom, *messages: bytes) -> Path:
    path = room.root / "bounces"
    box = mailbox.Maildir(path, create=True)
    for data in messages:
        box.add(data)
    return path


def run(room: Newsroom, path: Path, rules: AlertSettings = RULES) -> dict[str, int]:
    return read_bounces(path, room.store, KEY, DOMAIN, rules, T0 + dt.timedelta(hours=1))


def status(room: Newsroom, sid: str) -> str:
    found = room.store.subscribers.get(sid)
    assert found is not None
    return found.status


def test_a_hard_bounce_suspends_and_each_message_is_read_once(newsroom: Newsroom) -> None:
    alice = confirmed(newsroom, "alice")
    path = maildir(newsroom, postfix_hard(return_path(alice, DOMAIN, KEY)))
    counts = run(newsroom, path)
    assert (counts["hard"], counts["suspended"], counts["ignored"]) == (1, 1, 0)
    found = newsroom.store.subscribers.get(alice)
    assert found is not None and (found.status, found.hard_bounces) == ("suspended", 1)
    assert not list((path / "new").iterdir())  # moved to cur/, flagged seen
    assert [p.name.partition(":")[2] for p in (path / "cur").iterdir()] == ["2,S"]
    again = run(newsroom, path)
    assert sum(again.values()) == 0
    assert newsroom.store.subscribers.get(alice).hard_bounces == 1  # type: ignore[union-attr]


def test_soft_bounces_suspend_at_the_fifth(newsroom: Newsroom) -> None:
    bob = confirmed(newsroom, "bob")
    verp = return_path(bob, DOMAIN, KEY)
    path = maildir(newsroom, exim_delayed(verp), postfix_expired(verp))
    assert run(newsroom, path)["soft"] == 2
    box = mailbox.Maildir(path, create=False)
    for _ in range(2):
        box.add(exim_delayed(verp))
    assert run(newsroom, path)["soft"] == 2
    assert status(newsroom, bob) == "confirmed"  # four soft bounces
    box.add(postfix_expired(verp))
    counts = run(newsroom, path)
    assert (counts["soft"], counts["suspended"]) == (1, 1)
    found = newsroom.store.subscribers.get(bob)
    assert found is not None and (found.status, found.soft_bounces) == ("suspended", 5)


def test_a_complaint_unsubscribes(newsroom: Newsroom) -> None:
    carol, dave = confirmed(newsroom, "carol"), confirmed(newsroom, "dave")
    path = maildir(newsroom, arf_complaint(return_path(carol, DOMAIN, KEY)))
    assert run(newsroom, path)["complaint"] == 1
    found = newsroom.store.subscribers.get(carol)
    assert found is not None and (found.status, found.address) == ("unsubscribed", None)
    assert status(newsroom, dave) == "confirmed"


def test_forged_and_foreign_reports_are_ignored(newsroom: Newsroom) -> None:
    erin = confirmed(newsroom, "erin")
    verp = return_path(erin, DOMAIN, KEY)
    mac = verp.split("-")[-1].split("@")[0]
    forged_mac = verp.replace(mac, "a" * len(mac))
    other_key = return_path(erin, DOMAIN, b"not our key")
    unknown = return_path("f" * 32, DOMAIN, KEY)  # a well-signed id nobody has
    elsewhere = return_path(erin, "example.com", KEY)
    path = maildir(
        newsroom,
        postfix_hard(forged_mac),
        postfix_hard(other_key),
        arf_complaint(other_key),
        postfix_hard(unknown),
        arf_complaint(unknown),
        postfix_hard(elsewhere),
        vacation_reply(),
    )
    counts = run(newsroom, path)
    assert counts["ignored"] == 7 and counts["hard"] == counts["complaint"] == 0
    found = newsroom.store.subscribers.get(erin)
    assert found is not None and (found.status, found.hard_bounces) == ("confirmed", 0)
    assert not list((path / "new").iterdir())  # read, and not read again


def test_the_limits_come_from_the_settings(newsroom: Newsroom) -> None:
    fred = confirmed(newsroom, "fred")
    path = maildir(newsroom, postfix_hard(return_path(fred, DOMAIN, KEY)))
    counts = run(newsroom, path, dataclasses.replace(RULES, max_hard_bounces=2))
    assert (counts["hard"], counts["suspended"]) == (1, 0)
    assert status(newsroom, fred) == "confirmed"


def test_a_missing_maildir_reads_nothing(newsroom: Newsroom) -> None:
    counts = run(newsroom, newsroom.root / "nowhere")
    assert sum(counts.values()) == 0
