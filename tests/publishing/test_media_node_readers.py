"""The feeds with pictures and attachments read by two npm feed readers' own parsers
(rss-parser, feedsmith; tests/readers/read.mjs): they parse, and find the files (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BASE_URL, Newsroom
from tests.publishing.media_corpus import ALT, PDF, STATEMENT_TITLE, MediaRoom, make_media_room
from tests.publishing.test_node_readers import node_readers, read  # noqa: F401

RELEASE_URL = f"{BASE_URL}releases/signing/"


@pytest.fixture
def room(newsroom: Newsroom, tmp_path: Path) -> MediaRoom:
    return make_media_room(newsroom, tmp_path / "media-cache")


def test_node_readers_find_the_files(
    room: MediaRoom,
    node_readers: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    docs = room.documents()
    got = read(node_readers, docs, tmp_path, "feed.xml", "atom.xml", "feed.json")
    lead = RELEASE_URL + room.media.for_feeds(room.refs["photo"]).name
    length = len(room.served("photo", room.media.for_feeds(room.refs["photo"]).name))
    rss = got["feed.xml"]
    signing = rss["rss-parser"][0]
    assert signing["title"] == "Release signing"
    assert signing["enclosure"] == {"url": lead, "length": str(length), "type": "image/jpeg"}
    smith = rss["feedsmith"][0]
    assert smith["enclosures"] == [{"url": lead, "length": length, "type": "image/jpeg"}]
    [first, second] = smith["media"]["contents"]
    assert (first["url"], first["fileSize"], first["medium"]) == (lead, length, "image")
    assert (first["width"], first["height"]) == (1200, 900)
    assert first["thumbnails"][0]["width"] == 480
    assert second["url"] == RELEASE_URL + room.media.for_feeds(room.refs["detail"]).name
    atom = got["atom.xml"]["feedsmith"][0]["links"]
    enclosures = [(link["href"], link["length"], link["title"]) for link in atom[1:]]
    assert enclosures[0] == (lead, length, ALT)
    assert enclosures[2] == (RELEASE_URL + "statement.pdf", len(PDF), STATEMENT_TITLE)
    item = got["feed.json"]["feedsmith"][0]
    assert item["image"] == lead
    assert item["attachments"] == [
        {
            "url": RELEASE_URL + "statement.pdf",
            "mime_type": "application/pdf",
            "title": STATEMENT_TITLE,
            "size_in_bytes": len(PDF),
        }
    ]
