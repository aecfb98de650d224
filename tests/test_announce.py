"""Announcements are queued in the transaction that makes the change, and only for what a
reader can see."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from feedsvc.announce import Announcer
from feedsvc.config import settings_from_dict
from feedsvc.model import Delivery
from tests.conftest import BASE_URL, Newsroom, make_newsroom
from tests.web.media_items import DOCX, JPEG, PDF, WIDEST, bundle

HUB = "https://hub.example.net/"
HOOK_ALL = "https://hooks.example.net/all"
HOOK_WITHDRAWN = "https://hooks.example.net/withdrawn"


@pytest.fixture
def room(tmp_path: Path) -> Newsroom:
    room = make_newsroom(tmp_path, websub={"hubs": [HUB]})
    settings = settings_from_dict(
        {
            "site": {"base_url": BASE_URL, "id_authority": "press.example.org"},
            "websub": {"hubs": [HUB]},
            "webhooks": [
                {"url": HOOK_ALL, "secret_env": "HOOK_SECRET"},
                {
                    "url": HOOK_WITHDRAWN,
                    "secret_env": "HOOK_SECRET",
                    "events": ["release.withdrawn"],
                },
            ],
        },
        root=tmp_path,
    )
    room.store.announce = Announcer(
        site=settings.site,
        webhooks=settings.webhooks,
        websub=settings.websub,
        outbox=settings.outbox,
    )
    yield room
    room.store.close()


def queued(room: Newsroom, channel: str | None = None) -> list[Delivery]:
    return sorted(room.store.outbox.list(channel=channel, limit=1000), key=lambda d: d.id)


def events(room: Newsroom) -> list[tuple[str, str, str]]:
    return [(d.payload["type"], d.payload["data"]["id"], d.target) for d in queued(room, "webhook")]


def test_publishing_queues_events_and_hub_pings(room: Newsroom) -> None:
    room.add("news.txt", "Big news", "November 26, 2026")
    result = room.ingest()
    assert result.changes.enqueued == len(queued(room))
    assert events(room) == [("release.published", "news", HOOK_ALL)]
    [hook] = queued(room, "webhook")
    data = hook.payload["data"]
    assert data["url"] == BASE_URL + "releases/news/"
    assert data["title"] == "Big news" and data["section"] == "Press Releases"
    assert hook.payload["timestamp"] == "2026-11-27T12:00:00Z"
    topics = sorted(d.payload["topic"] for d in queued(room, "websub"))
    assert topics == sorted(
        BASE_URL + folder + name
        for folder in ("", "sections/press-releases/")
        for name in ("feed.xml", "atom.xml", "feed.json")
    )
    assert {d.target for d in queued(room, "websub")} == {HUB}
    assert len(json.dumps(hook.payload)) < 20_000


def test_an_unchanged_rescan_queues_nothing(room: Newsroom) -> None:
    room.add("news.txt", "Big news", "November 26, 2026")
    room.ingest()
    before = len(queued(room))
    assert room.ingest().changes.enqueued == 0
    assert len(queued(room)) == before


def test_edit_and_withdrawal_are_announced_to_subscribers_only(room: Newsroom) -> None:
    path = room.add("news.txt", "Big news", "November 26, 2026")
    room.ingest()
    room.clock.advance(minutes=5)
    room.add("news.txt", "Big news, corrected", "November 26, 2026")
    room.ingest()
    room.clock.advance(minutes=5)
    path.unlink()
    room.ingest()
    assert events(room) == [
        ("release.published", "news", HOOK_ALL),
        ("release.updated", "news", HOOK_ALL),
        ("release.withdrawn", "news", HOOK_ALL),
        ("release.withdrawn", "news", HOOK_WITHDRAWN),
    ]
    withdrawn = queued(room, "webhook")[-1].payload["data"]
    assert withdrawn == {
        "id": "news",
        "url": BASE_URL + "releases/news/",
        "title": "Big news, corrected",
        "withdrawn": "2026-11-27T12:10:00Z",
    }


def test_embargo_is_never_leaked_by_an_announcement(room: Newsroom) -> None:
    embargo = "2026-11-28T09:00:00+00:00"
    text = (
        f'+++\ntitle = "Merger"\ndate = {embargo}\nsection = "Economy"\n'
        f"publish_at = {embargo}\n+++\nSecret until then.\n"
    )
    path = room.write("merger.md", text)
    room.ingest()
    room.write("merger.md", text.replace("Secret", "Still secret"))
    room.clock.advance(minutes=1)
    room.ingest()
    assert queued(room) == []  # stored, edited: nothing said, no feed pinged
    room.clock.at = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    changes = room.store.releases.publish_due(room.clock.now())
    assert changes.enqueued > 0
    assert events(room) == [("release.published", "merger", HOOK_ALL)]
    assert queued(room, "webhook")[0].payload["data"]["summary"].startswith("Still secret")
    path.unlink()
    room.ingest()
    assert ("release.withdrawn", "merger", HOOK_WITHDRAWN) in events(room)


def test_withdrawing_an_embargoed_release_says_nothing(room: Newsroom) -> None:
    path = room.write(
        "merger.md",
        '+++\ntitle = "Merger"\ndate = 2026-12-01T09:00:00Z\nsection = "Economy"\n'
        "publish_at = 2026-12-01T09:00:00Z\n+++\nSecret.\n",
    )
    room.ingest()
    path.unlink()
    room.ingest()
    assert queued(room) == []


def test_old_releases_are_published_quietly_but_feeds_are_pinged(room: Newsroom) -> None:
    room.add("old.txt", "From the archive", "September 11, 2020")
    room.ingest()
    assert events(room) == []
    assert queued(room, "websub")  # the feeds did change


def test_the_announcement_commits_with_the_change_or_not_at_all(room: Newsroom) -> None:
    def broken(*args: object) -> list:
        raise RuntimeError("announcer failed")

    room.store.announce = broken
    room.add("news.txt", "Big news", "November 26, 2026")
    with pytest.raises(RuntimeError):
        room.ingest()
    assert room.store.releases.visible_count() == 0  # not published without its announcements
    assert queued(room) == []


def test_feeds_advertise_the_hub_beside_self(room: Newsroom) -> None:
    room.add("news.txt", "Big news", "November 26, 2026")
    room.ingest()
    docs = room.documents()
    rss, atom, json_feed = docs["feed.xml"], docs["atom.xml"], docs["feed.json"]
    import feedparser

    for doc in (rss, atom):
        links = {(link["rel"], link["href"]) for link in feedparser.parse(doc.body).feed.links}
        assert ("hub", HUB) in links, doc.path
        assert ("self", BASE_URL + doc.path) in links
        assert doc.links == ((HUB, "hub"), (BASE_URL + doc.path, "self"))
    assert json.loads(json_feed.body)["hubs"] == [{"type": "WebSub", "url": HUB}]
    section = docs["sections/press-releases/atom.xml"]
    assert section.links == ((HUB, "hub"), (BASE_URL + section.path, "self"))
    archive = docs["archive/1/atom.xml"]
    assert archive.links == () and b'rel="hub"' not in archive.body


def test_without_hubs_feeds_say_nothing_of_websub(newsroom: Newsroom) -> None:
    newsroom.add("news.txt", "Big news", "November 26, 2026")
    newsroom.ingest()
    docs = newsroom.documents()
    assert b'rel="hub"' not in docs["feed.xml"].body
    assert "hubs" not in json.loads(docs["feed.json"].body)
    assert docs["feed.xml"].links == ()


def test_a_release_event_carries_its_picture_and_attachments(room: Newsroom) -> None:
    files = {"photo.jpg": JPEG, "statement.pdf": PDF, "annex.docx": DOCX}
    bundle(room.items / "visit", "visit", files, date="2026-11-26T10:00:00+08:00")
    room.ingest()
    [hook] = queued(room, "webhook")
    data = hook.payload["data"]
    assert data["image"] == {
        "url": BASE_URL + "releases/visit/" + WIDEST,
        "width": 1600,
        "height": 1200,
        "alt": "The minister at the lectern",
    }
    assert data["attachments"] == [
        {
            "url": BASE_URL + "releases/visit/statement.pdf",
            "media_type": "application/pdf",
            "size": len(PDF),
            "title": "The statement.pdf",
        },
        {
            "url": BASE_URL + "releases/visit/annex.docx",
            "media_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "size": len(DOCX),
            "title": "The annex.docx",
        },
    ]


def test_a_release_without_files_keeps_its_payload(room: Newsroom) -> None:
    room.add("news.txt", "Big news", "November 26, 2026")
    room.ingest()
    [hook] = queued(room, "webhook")
    assert set(hook.payload["data"]) == {
        "id",
        "url",
        "title",
        "section",
        "language",
        "summary",
        "published",
        "updated",
    }
