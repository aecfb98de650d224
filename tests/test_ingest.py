from __future__ import annotations

from feedsvc.ingest import ingest_files
from tests.conftest import Newsroom


def test_ingest_files_follows_only_the_named_files(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "A", "March 1, 2021")
    newsroom.add("b.txt", "B", "March 2, 2021")
    newsroom.ingest()
    newsroom.add("b.txt", "B edited", "March 2, 2021")  # not named below: left alone
    newsroom.add("c.txt", "C", "March 3, 2021")
    (newsroom.items / "a.txt").unlink()

    def files(*names: str):
        return ingest_files(newsroom.settings, newsroom.store, newsroom.clock, names)

    result = files("c.txt", "a.txt")
    assert result.changes.added == ["c"]
    assert result.changes.withdrawn == ["a"]
    assert result.changes.updated == []
    assert newsroom.store.releases.get("b").release.title == "B"  # type: ignore[union-attr]

    assert not files("c.txt").changes  # unchanged: nothing to do
    assert files("b.txt").changes.updated == ["b"]
    assert [str(p) for p in files("missing.txt", ".hidden.txt").problems] == []


def test_ingest_files_reports_a_bad_file_and_keeps_its_release(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "A", "March 1, 2021")
    newsroom.ingest()
    newsroom.write("a.txt", b"")
    result = ingest_files(newsroom.settings, newsroom.store, newsroom.clock, ["a.txt"])
    assert [str(p) for p in result.problems] == ["a.txt:1: empty file: expected a release"]
    assert not result.changes
    assert newsroom.store.releases.get("a").withdrawn_at is None  # type: ignore[union-attr]


def test_a_large_batch_is_read_in_parallel_with_the_same_result(
    newsroom: Newsroom, monkeypatch
) -> None:
    import feedsvc.ingest

    for day in range(1, 8):
        newsroom.add(f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    newsroom.write("bad.txt", b"\xff")
    monkeypatch.setattr(feedsvc.ingest, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(feedsvc.ingest, "_CHUNK", 3)
    result = newsroom.ingest()
    assert sorted(result.changes.added) == [f"r{d}" for d in range(1, 8)]
    assert [str(p) for p in result.problems] == [
        "bad.txt:1: not UTF-8 text (byte 0xff at offset 0)"
    ]
    assert result.files == 8
    assert not newsroom.ingest().changes


def test_parallel_reading_spawns_when_other_threads_run(newsroom: Newsroom, monkeypatch) -> None:
    import threading

    import feedsvc.ingest

    for day in range(1, 5):
        newsroom.add(f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    monkeypatch.setattr(feedsvc.ingest, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(feedsvc.ingest, "_CHUNK", 2)
    contexts: list[str] = []
    real = feedsvc.ingest.multiprocessing.get_context
    monkeypatch.setattr(
        feedsvc.ingest.multiprocessing,
        "get_context",
        lambda method: contexts.append(method) or real(method),
    )
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        result = newsroom.ingest()
    finally:
        stop.set()
        other.join()
    assert contexts == ["spawn"]
    assert sorted(result.changes.added) == ["r1", "r2", "r3", "r4"]


def test_batches_publish_in_date_order_across_batches(newsroom: Newsroom, monkeypatch) -> None:
    import feedsvc.ingest

    monkeypatch.setattr(feedsvc.ingest, "BATCH", 2)
    # File order is the reverse of date order, so each batch alone would number wrongly.
    for n, day in enumerate((5, 4, 3, 2, 1)):
        newsroom.add(f"f{n}.txt", f"Release {day}", f"March {day}, 2021")
    newsroom.write(
        "f9.md", '+++\nid = "f0"\ntitle = "Clash"\ndate = 2021-03-09\nsection = "S"\n+++\nX\n'
    )
    result = newsroom.ingest()
    assert [str(p) for p in result.problems] == ["f9.md:1: id 'f0' is already used by f0.txt"]
    assert len(result.changes.published) == 5
    seq_by_title = {s.release.title: s.seq for s in newsroom.store.releases.latest(10)}
    assert [seq_by_title[f"Release {d}"] for d in range(1, 6)] == [1, 2, 3, 4, 5]
    assert set(result.stored) == {f"f{n}.txt" for n in range(5)}


def test_a_photo_edit_is_an_edit_of_its_release(newsroom: Newsroom) -> None:
    from tests.media.pictures import encode, photo

    text = (
        '+++\ntitle = "Accord"\ndate = 2026-11-20T09:00:00+08:00\nsection = "News"\n+++\n'
        "Signed.\n\n![The accord](photo.jpg)\n"
    )
    newsroom.write("accord.md", text)
    newsroom.write("photo.jpg", encode(photo((200, 100)), "JPEG"))
    assert newsroom.ingest().changes.published == ["accord"]
    before = newsroom.store.releases.get("accord")
    assert before is not None
    assert not newsroom.ingest().changes  # nothing changed: nothing read
    newsroom.clock.advance(hours=1)
    newsroom.write("photo.jpg", encode(photo((200, 100)).rotate(180), "JPEG"))
    result = ingest_files(newsroom.settings, newsroom.store, newsroom.clock, ["photo.jpg"])
    assert result.changes.updated == ["accord"]
    after = newsroom.store.releases.get("accord")
    assert after is not None
    assert after.release.content_hash != before.release.content_hash
    assert after.updated == newsroom.clock.now()
    (newsroom.items / "photo.jpg").unlink()
    assert [str(p) for p in newsroom.ingest().problems] == [
        "accord.md:8: photo.jpg does not exist (expected photo.jpg)"
    ]
    assert newsroom.store.releases.get("accord") == after  # its last good version stays


def test_a_bundles_other_text_files_are_not_releases(newsroom: Newsroom) -> None:
    index = '+++\ntitle = "Accord"\ndate = 2026-11-20\nsection = "News"\n+++\nSigned.\n'
    newsroom.write("signing/index.md", index)
    newsroom.write("signing/notes.md", "# Notes\n\nOn March 1, 2021, not a release.\n")
    newsroom.write("signing/old/draft.txt", "not a release either")
    assert newsroom.ingest().changes.published == ["signing"]
    named = ["signing/notes.md", "signing/old/draft.txt", "signing/index.md"]
    result = ingest_files(newsroom.settings, newsroom.store, newsroom.clock, named)
    assert not result.changes and result.problems == [] and result.files == 1
