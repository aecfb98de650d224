from __future__ import annotations

import datetime as dt
import os
import sqlite3

import pytest

from tests.conftest import Newsroom, newsroom_text


def test_ingest_is_idempotent(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "First", "March 1, 2021")
    first = newsroom.ingest()
    assert first.changes.added == ["a"]
    assert first.changes.published == ["a"]
    again = newsroom.ingest()
    assert not again.changes
    assert again.problems == []


def test_unchanged_content_with_new_mtime_changes_nothing(newsroom: Newsroom) -> None:
    path = newsroom.add("a.txt", "First", "March 1, 2021")
    newsroom.ingest()
    before = newsroom.store.releases.get("a")
    os.utime(path, ns=(1, 1))
    newsroom.clock.advance(days=1)
    assert not newsroom.ingest().changes
    assert newsroom.store.releases.get("a") == before


def test_edit_keeps_id_published_and_tag_and_moves_updated(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "First title", "March 1, 2021")
    newsroom.ingest()
    before = newsroom.store.releases.get("a")
    assert before is not None
    newsroom.clock.advance(days=3)
    newsroom.add("a.txt", "Corrected title", "March 1, 2021", "the text was edited.")
    result = newsroom.ingest()
    assert result.changes.updated == ["a"]
    after = newsroom.store.releases.get("a")
    assert after is not None
    assert after.release.title == "Corrected title"
    assert after.release.published == before.release.published
    assert after.tag_uri("x.org") == before.tag_uri("x.org")
    assert after.seq == before.seq
    assert after.updated == newsroom.clock.now()


def test_tag_uri_survives_a_changed_date(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "First", "March 1, 2021")
    newsroom.ingest()
    newsroom.add("a.txt", "First", "March 2, 2021")
    newsroom.ingest()
    stored = newsroom.store.releases.get("a")
    assert stored is not None
    assert stored.release.published.date() == dt.date(2021, 3, 2)
    assert stored.tag_uri("press.example.org") == "tag:press.example.org,2021-03-01:release:a"


def test_deleted_file_withdraws_and_returning_file_restores(newsroom: Newsroom) -> None:
    path = newsroom.add("a.txt", "First", "March 1, 2021")
    newsroom.ingest()
    path.unlink()
    newsroom.clock.advance(hours=1)
    result = newsroom.ingest()
    assert result.changes.withdrawn == ["a"]
    gone = newsroom.store.releases.get("a")
    assert gone is not None and gone.withdrawn_at == newsroom.clock.now()
    assert newsroom.store.releases.latest(10) == []

    newsroom.add("a.txt", "First", "March 1, 2021")
    result = newsroom.ingest()
    assert result.changes.updated == ["a"]
    back = newsroom.store.releases.get("a")
    assert back is not None and back.withdrawn_at is None and back.seq == gone.seq


def test_bad_edit_keeps_the_last_good_version(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "Good title", "March 1, 2021")
    newsroom.ingest()
    newsroom.write("a.txt", b"\xff\xfe not text")
    result = newsroom.ingest()
    assert [p.path for p in result.problems] == ["a.txt"]
    assert not result.changes
    stored = newsroom.store.releases.get("a")
    assert stored is not None and stored.withdrawn_at is None
    assert stored.release.title == "Good title"


def test_one_bad_file_never_stops_the_others(newsroom: Newsroom) -> None:
    newsroom.add("good.txt", "Good", "March 1, 2021")
    newsroom.write("empty.txt", b"")
    newsroom.write(
        "nodate.txt", newsroom_text("No date", "", ["no dateline here."]).replace("On , ", "")
    )
    result = newsroom.ingest()
    assert [str(p) for p in result.problems] == [
        "empty.txt:1: empty file: expected a release",
        "nodate.txt:5: no date: expected a dateline at the start of the first paragraph "
        "(e.g. 'On September 11, 2020, ...') or 'date' in front matter",
    ]
    assert [s.id for s in newsroom.store.releases.latest(10)] == ["good"]


def test_duplicate_id_is_reported_and_the_first_file_keeps_it(newsroom: Newsroom) -> None:
    newsroom.write(
        "a.md", '+++\nid = "same"\ntitle = "A"\ndate = 2021-03-01\nsection = "S"\n+++\nText.\n'
    )
    newsroom.write(
        "b.md", '+++\nid = "same"\ntitle = "B"\ndate = 2021-03-02\nsection = "S"\n+++\nText.\n'
    )
    result = newsroom.ingest()
    assert [str(p) for p in result.problems] == ["b.md:1: id 'same' is already used by a.md"]
    stored = newsroom.store.releases.get("same")
    assert stored is not None and stored.release.title == "A"
    # On the next pass (b.md unchanged, so skipped) nothing flips.
    assert not newsroom.ingest().changes
    assert newsroom.store.releases.get("same").release.title == "A"  # type: ignore[union-attr]


def test_front_matter_id_change_withdraws_the_old_id(newsroom: Newsroom) -> None:
    newsroom.write(
        "a.md", '+++\nid = "old"\ntitle = "A"\ndate = 2021-03-01\nsection = "S"\n+++\nText.\n'
    )
    newsroom.ingest()
    newsroom.write(
        "a.md", '+++\nid = "new"\ntitle = "A"\ndate = 2021-03-01\nsection = "S"\n+++\nText!\n'
    )
    result = newsroom.ingest()
    assert result.changes.added == ["new"]
    assert result.changes.withdrawn == ["old"]


def test_embargo_publishes_only_when_due_in_date_order(newsroom: Newsroom) -> None:
    now = newsroom.clock.now()
    later = (now + dt.timedelta(hours=2)).isoformat()
    newsroom.write(
        "embargoed.md",
        f'+++\ntitle = "Later"\ndate = 2026-11-27\nsection = "S"\npublish_at = {later}\n+++\nText.\n',
    )
    newsroom.add("open.txt", "Open", "March 1, 2021")
    result = newsroom.ingest()
    assert sorted(result.changes.added) == ["embargoed", "open"]
    assert result.changes.published == ["open"]
    assert [s.id for s in newsroom.store.releases.latest(10)] == ["open"]
    assert newsroom.store.releases.next_embargo() == now + dt.timedelta(hours=2)

    newsroom.clock.advance(hours=2)
    changes = newsroom.store.releases.publish_due(newsroom.clock.now())
    assert changes.published == ["embargoed"]
    assert [s.id for s in newsroom.store.releases.latest(10)] == ["embargoed", "open"]
    assert newsroom.store.releases.next_embargo() is None


def test_withdrawing_an_embargoed_release_leaves_no_tombstone(newsroom: Newsroom) -> None:
    later = (newsroom.clock.now() + dt.timedelta(days=1)).isoformat()
    path = newsroom.write(
        "secret.md",
        f'+++\ntitle = "T"\ndate = 2026-11-28\nsection = "S"\npublish_at = {later}\n+++\nX\n',
    )
    newsroom.ingest()
    path.unlink()
    newsroom.ingest()
    assert (
        newsroom.store.releases.withdrawn_since(newsroom.clock.now() - dt.timedelta(days=30)) == []
    )


@pytest.mark.sqlite_only
def test_sqlite_file_is_in_wal_mode(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "First", "March 1, 2021")
    newsroom.ingest()
    db = newsroom.root / "var" / "feedsvc.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_embargoed_release_is_dated_when_it_became_visible(newsroom: Newsroom) -> None:
    import json

    from lxml import etree

    shanghai = dt.timezone(dt.timedelta(hours=8))
    lifted = dt.datetime(2026, 11, 28, 10, 21, tzinfo=shanghai)
    front = f"+++\npublish_at = {lifted.isoformat()}\n+++\n"
    # Its dateline says the same day: 09:00 by items.default_time, before the embargo.
    newsroom.write("late.txt", front + newsroom_text("Late", "November 28, 2026", ["x."]))
    # Embargoed until before its dateline: dated by its dateline.
    early = f"+++\npublish_at = {(lifted - dt.timedelta(hours=3)).isoformat()}\n+++\n"
    newsroom.write("early.txt", early + newsroom_text("Early", "November 28, 2026", ["y."]))
    newsroom.ingest()
    assert newsroom.store.releases.latest(10) == []

    newsroom.clock.at = lifted + dt.timedelta(minutes=5)
    assert newsroom.store.releases.publish_due(newsroom.clock.now()).published == ["early", "late"]
    late, early_ = newsroom.store.releases.get("late"), newsroom.store.releases.get("early")
    assert late is not None and early_ is not None
    assert late.release.published == lifted
    assert late.updated == lifted  # never updated before it was published
    assert late.tag_uri("press.example.org") == "tag:press.example.org,2026-11-28:release:late"
    assert early_.release.published == dt.datetime(2026, 11, 28, 9, 0, tzinfo=shanghai)
    assert [s.id for s in newsroom.store.releases.latest(10)] == ["late", "early"]

    docs = newsroom.documents()
    rss = etree.fromstring(docs["feed.xml"].body)
    assert rss.findtext("channel/item/pubDate") == "Sat, 28 Nov 2026 10:21:00 +0800"
    atom = etree.fromstring(docs["atom.xml"].body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.xpath("a:entry[1]/a:published/text()", namespaces=ns) == [lifted.isoformat()]
    [updated] = atom.xpath("a:entry[1]/a:updated/text()", namespaces=ns)
    assert dt.datetime.fromisoformat(updated).replace(microsecond=0) == lifted
    item = json.loads(docs["feed.json"].body)["items"][0]
    assert item["date_published"] == lifted.isoformat()
    # Same data, same bytes: the date is the store's, not the moment of rendering.
    newsroom.clock.advance(days=1)
    assert newsroom.documents()["feed.xml"].body == docs["feed.xml"].body


def test_an_edit_after_the_embargo_keeps_the_date_it_became_visible(newsroom: Newsroom) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    lifted = dt.datetime(2026, 11, 28, 10, 21, tzinfo=shanghai)
    front = f"+++\npublish_at = {lifted.isoformat()}\n+++\n"
    newsroom.write("late.txt", front + newsroom_text("Late", "November 28, 2026", ["x."]))
    newsroom.ingest()
    newsroom.clock.at = lifted + dt.timedelta(minutes=5)
    newsroom.store.releases.publish_due(newsroom.clock.now())
    newsroom.clock.at = lifted + dt.timedelta(hours=2)
    newsroom.write("late.txt", front + newsroom_text("Late, edited", "November 28, 2026", ["x."]))
    assert newsroom.ingest().changes.updated == ["late"]
    late = newsroom.store.releases.get("late")
    assert late is not None
    assert late.release.title == "Late, edited"
    assert late.release.published == lifted  # not back to the dateline's 09:00
    assert late.updated >= lifted


def test_same_day_releases_without_a_time_are_dated_when_they_arrived(newsroom: Newsroom) -> None:
    """A dateline with a day and no time, arriving that day, is dated when it went out, not
    at items.default_time: two such releases no longer share one made-up instant (W3C
    DuplicateUpdated), and none is dated before it existed (issue 12)."""
    from lxml import etree

    from tests import feedlint

    shanghai = dt.timezone(dt.timedelta(hours=8))
    morning = dt.datetime(2026, 11, 28, 11, 5, tzinfo=shanghai)
    newsroom.clock.at = morning
    newsroom.write("a.txt", newsroom_text("First", "November 28, 2026", ["x."]))
    newsroom.ingest()
    newsroom.clock.at = morning + dt.timedelta(hours=3, minutes=7)
    newsroom.write("b.txt", newsroom_text("Second", "November 28, 2026", ["y."]))
    newsroom.ingest()
    b_arrived = newsroom.clock.now()
    newsroom.clock.advance(minutes=1)
    # Front matter with a bare date is a day too; one with a time keeps its time.
    newsroom.write("c.md", "---\ntitle: Third\nsection: News\ndate: 2026-11-28\n---\nz.\n")
    newsroom.write(
        "d.md", "---\ntitle: Fourth\nsection: News\ndate: 2026-11-28T08:30:00+08:00\n---\nw.\n"
    )
    # An archive release arriving days after its day keeps the day at the default time.
    newsroom.write("old.txt", newsroom_text("Old", "November 20, 2026", ["o."]))
    newsroom.ingest()
    published = {rid: newsroom.store.releases.get(rid).release.published for rid in "abcd"}  # type: ignore[union-attr]
    assert published["a"] == morning
    assert published["b"] == b_arrived
    assert published["c"] == newsroom.clock.now()
    assert published["d"] == dt.datetime(2026, 11, 28, 8, 30, tzinfo=shanghai)
    old = newsroom.store.releases.get("old")
    assert old is not None
    assert old.release.published == dt.datetime(2026, 11, 20, 9, 0, tzinfo=shanghai)
    for rid in "abc":
        stored = newsroom.store.releases.get(rid)
        assert stored is not None and stored.updated == published[rid]
        assert stored.tag_uri("x.org") == f"tag:x.org,2026-11-28:release:{rid}"

    # An edit later that day keeps the moment it went out; the day is still its day.
    newsroom.clock.advance(hours=2)
    newsroom.write("a.txt", newsroom_text("First, edited", "November 28, 2026", ["x."]))
    assert newsroom.ingest().changes.updated == ["a"]
    a = newsroom.store.releases.get("a")
    assert a is not None and a.release.published == morning
    assert a.updated == newsroom.clock.now()

    atom = newsroom.documents()["atom.xml"].body
    assert not [p for p in feedlint.lint_atom(atom) if "DuplicateUpdated" in p]
    ns = {"a": "http://www.w3.org/2005/Atom"}
    dates = etree.fromstring(atom).xpath("a:entry/a:published/text()", namespaces=ns)
    assert "2026-11-28T09:00:00+08:00" not in dates


def test_sections_are_named_by_their_newest_published_spelling(newsroom: Newsroom) -> None:
    """Issue 18 read a section's name off the index (each slug once, then its newest
    spelling): the same answers as grouping every release, in every case below."""
    newsroom.add("a.txt", "A", "March 1, 2021", section="Press Releases")
    newsroom.add("b.txt", "B", "March 3, 2021", section="PRESS RELEASES")
    newsroom.add("c.txt", "C", "March 2, 2021", section="Press releases")  # older: not its name
    gone = newsroom.add("d.txt", "D", "March 1, 2021", section="Speeches")
    later = (newsroom.clock.now() + dt.timedelta(hours=2)).isoformat()
    newsroom.write(
        "e.md",
        f'+++\ntitle = "E"\ndate = 2021-03-04\nsection = "Briefings"\npublish_at = {later}\n'
        "+++\nText.\n",
    )
    newsroom.ingest()
    gone.unlink()
    newsroom.clock.advance(hours=1)
    newsroom.ingest()
    reads = newsroom.store.releases
    # Withdrawn: still listed (its feed keeps its tombstones); embargoed: not yet.
    expected = [("press-releases", "PRESS RELEASES"), ("speeches", "Speeches")]
    assert reads.sections() == expected
    assert reads.in_language(None).sections() == expected
    assert reads.in_language(None).sections(["speeches", "briefings", "nope"]) == expected[1:]
    assert reads.in_language("fr").sections() == []  # another language's are its own

    newsroom.clock.advance(hours=1)
    newsroom.store.releases.publish_due(newsroom.clock.now())
    assert reads.in_language(None).sections(["briefings"]) == [("briefings", "Briefings")]
