"""A bundle's translations share its files (issue 15): a watcher naming a file of the
folder re-reads every index there, translations' too (index.zh.md), found by listing."""

from __future__ import annotations

from pathlib import Path

from feedsvc.ingest import ingest_files
from tests.conftest import make_newsroom

INDEX = '+++\ntitle = "{}"\ndate = 2026-11-20T09:00:00+08:00\nsection = "{}"\n+++\n{}\n'


def test_a_picture_a_translation_waited_for_publishes_it(tmp_path: Path) -> None:
    from tests.media.pictures import encode, photo

    room = make_newsroom(tmp_path, languages={"zh": {}})
    try:
        room.write("accord/index.md", INDEX.format("Accord", "News", "Signed."))
        room.write(
            "accord/index.zh.md", INDEX.format("协议", "新闻", "已签署。\n\n![协议](photo.jpg)")
        )
        first = room.ingest()
        assert [str(p) for p in first.problems] == [
            "accord/index.zh.md:8: photo.jpg does not exist (expected accord/photo.jpg)"
        ]
        assert first.changes.added == ["accord"]
        room.write("accord/photo.jpg", encode(photo((200, 100)), "JPEG"))
        result = ingest_files(room.settings, room.store, room.clock, ["accord/photo.jpg"])
        assert result.problems == [] and result.changes.added == ["accord@zh"]
    finally:
        room.store.close()
