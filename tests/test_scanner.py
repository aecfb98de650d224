"""The Scanner on its own (issue 13): a real items folder in tmp_path, a real store, and
the file system's clock injected so a file's age is set, not waited for."""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import pytest

from feedsvc.config import ItemsSettings
from feedsvc.ingest import store_files
from feedsvc.scanner import Scanner
from tests.conftest import Newsroom, Wall, newsroom_text


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def scanner(newsroom: Newsroom, wall: Wall) -> Scanner:
    return scanner_of(newsroom, wall)


def scanner_of(room: Newsroom, wall: Wall, items: ItemsSettings | None = None) -> Scanner:
    """A Scanner as the service makes one: its `items` section, and store_files to ingest."""
    ingest = functools.partial(store_files, room.settings, room.store, room.clock)
    return Scanner(items or room.settings.items, room.store, ingest, wall_time=wall)


def put(room: Newsroom, wall: Wall, name: str, text: str, age: float = 60.0) -> Path:
    """A file last written `age` seconds before the wall clock's now."""
    path = room.write(name, text)
    mtime = wall.now - age
    os.utime(path, (mtime, mtime))
    return path


def release(title: str, *paragraphs: str) -> str:
    return newsroom_text(title, "March 1, 2021", list(paragraphs) or ["the ministry said."])


def test_a_new_file_is_read_and_published(newsroom: Newsroom, wall: Wall, scanner: Scanner) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    look = scanner.look()
    assert look.changes.published == ["a"]
    assert list(look.result.stored) == ["a.txt"]
    assert look.unsettled == 0 and look.new_problems == []
    stored = newsroom.store.releases.get("a")
    assert stored is not None and stored.release.title == "Alpha"


def test_an_unchanged_file_is_not_read_again(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    scanner.look()
    wall.now += 3600
    look = scanner.look()
    # Same mtime and size: the file is not opened (nothing stored, nothing changed).
    assert look.result.stored == {} and not look.changes
    assert look.result.files == 1


def test_a_file_scanned_before_a_restart_is_not_read_again(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    scanner.look()
    again = scanner_of(newsroom, wall)
    assert again.look().result.stored == {}  # what is known comes from the store


def test_an_edited_file_is_read_and_updated(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    scanner.look()
    put(newsroom, wall, "a.txt", release("Alpha, corrected"), age=30)
    look = scanner.look()
    assert look.changes.updated == ["a"]
    stored = newsroom.store.releases.get("a")
    assert stored is not None and stored.release.title == "Alpha, corrected"


def test_a_new_mtime_alone_or_a_new_size_alone_is_a_change(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    path = put(newsroom, wall, "a.txt", release("Alpha"))
    scanner.look()
    os.utime(path, (wall.now - 30, wall.now - 30))  # touched: same bytes, new mtime
    look = scanner.look()
    assert list(look.result.stored) == ["a.txt"]  # read again ...
    assert not look.changes  # ... and found the same release
    same_mtime = path.stat().st_mtime_ns
    path.write_text(release("Alpha, longer title"), encoding="utf-8")
    os.utime(path, ns=(same_mtime, same_mtime))  # a new size under the old mtime
    look = scanner.look()
    assert look.changes.updated == ["a"]


def test_a_file_that_goes_is_withdrawn(newsroom: Newsroom, wall: Wall, scanner: Scanner) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    put(newsroom, wall, "b.txt", release("Beta"))
    scanner.look()
    (newsroom.items / "a.txt").unlink()
    look = scanner.look()
    assert look.changes.withdrawn == ["a"]
    assert look.result.files == 1
    assert scanner.look().changes.withdrawn == []  # once


def test_a_fresh_file_waits_one_look_then_is_read_if_unchanged(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    assert newsroom.settings.items.settle_seconds == 0.5
    put(newsroom, wall, "a.txt", release("Alpha"), age=0.1)
    look = scanner.look()
    assert look.unsettled == 1 and look.result.stored == {} and not look.changes
    wall.now += 0.1  # still younger than settle_seconds, but unchanged since the last look
    look = scanner.look()
    assert look.unsettled == 0 and look.changes.published == ["a"]


def test_a_file_still_being_written_waits_until_it_stops_changing(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    full = release("Alpha", "first part.", "second part, the end.")
    for end in (len(full) // 3, 2 * len(full) // 3):
        put(newsroom, wall, "a.txt", full[:end], age=0.1)
        look = scanner.look()
        assert look.unsettled == 1 and look.result.stored == {}
        wall.now += 0.1
    put(newsroom, wall, "a.txt", full, age=0.1)
    assert scanner.look().unsettled == 1
    wall.now += 0.1
    assert scanner.look().changes.published == ["a"]
    stored = newsroom.store.releases.get("a")
    assert stored is not None and "the end." in stored.release.body_html


def test_an_old_enough_file_is_read_at_the_first_look(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"), age=0.5)  # exactly settle_seconds old
    assert scanner.look().changes.published == ["a"]


@pytest.mark.parametrize(
    "name",
    [".a.txt", ".#a.txt", "#a.txt#", "#a.txt", "~$a.txt", "a.txt~", ".hidden/a.txt", "a.txt.swp"],
)
def test_hidden_and_backup_files_are_not_releases(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, name: str
) -> None:
    put(newsroom, wall, name, release("Hidden"))
    look = scanner.look()
    assert look.result.files == 0 and look.result.stored == {} and not look.changes
    assert newsroom.store.releases.get("a") is None


def test_a_bad_file_is_reported_once_per_change(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", "", age=30)
    first = scanner.look()
    assert [str(p) for p in first.new_problems] == ["a.txt:1: empty file: expected a release"]
    assert [str(p) for p in scanner.problems] == ["a.txt:1: empty file: expected a release"]
    assert scanner.look().new_problems == []  # the same bad file: said already
    put(newsroom, wall, "a.txt", "\n", age=20)  # changed, still bad
    assert len(scanner.look().new_problems) == 1
    put(newsroom, wall, "a.txt", release("Alpha"), age=10)
    assert scanner.look().changes.published == ["a"]
    assert scanner.problems == []


def test_a_bad_file_that_goes_is_no_longer_a_problem(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "a.txt", "", age=30)
    scanner.look()
    (newsroom.items / "a.txt").unlink()
    scanner.look()
    assert scanner.problems == []


def test_the_scanner_reads_the_items_section_it_is_given(
    newsroom: Newsroom, wall: Wall, tmp_path: Path
) -> None:
    """Issue 13: the scanner gets its section, not the whole Settings; the folder and the
    settle time it uses are that section's."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    put(newsroom, wall, "a.txt", release("Alpha"))
    (elsewhere / "b.txt").write_text(release("Beta"), encoding="utf-8")
    mtime = wall.now - 0.1  # fresh: read at once only because settle_seconds is 0 here
    os.utime(elsewhere / "b.txt", (mtime, mtime))
    items = dataclasses.replace(newsroom.settings.items, dir=elsewhere, settle_seconds=0.0)
    look = scanner_of(newsroom, wall, items).look()
    assert look.changes.published == ["b"] and look.unsettled == 0


# -- releases that name files (issue 14) --------------------------------------------------

BUNDLE = (
    '+++\ntitle = "Accord signed"\ndate = 2026-11-20T09:00:00+08:00\nsection = "News"\n+++\n'
    "The minister signed.\n\n![The minister signs the accord](photo.jpg)\n"
)


@functools.cache
def photo_bytes(angle: int = 0, comment: bytes = b"A") -> bytes:
    from tests.media.pictures import encode

    return encode(_picture().rotate(angle), "JPEG", quality=80, comment=comment)


@functools.cache
def _picture():  # type: ignore[no-untyped-def]
    from tests.media.pictures import photo

    return photo((320, 240))  # noise: one picture for the module, so bytes compare


def put_bundle(room: Newsroom, wall: Wall, photo: bytes, age: float = 60.0) -> Path:
    put(room, wall, "signing/index.md", BUNDLE, age)
    return put_photo(room, wall, photo, age)


def put_photo(room: Newsroom, wall: Wall, data: bytes, age: float = 60.0) -> Path:
    path = room.write("signing/photo.jpg", data)
    os.utime(path, (wall.now - age, wall.now - age))
    return path


def test_a_bundle_is_published_and_not_read_again(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put_bundle(newsroom, wall, photo_bytes())
    look = scanner.look()
    assert look.changes.published == ["signing"] and look.new_problems == []
    stored = newsroom.store.releases.get("signing")
    assert stored is not None and [m.source for m in stored.release.media] == ["signing/photo.jpg"]
    wall.now += 3600
    assert scanner.look().result.stored == {}
    assert scanner_of(newsroom, wall).look().result.stored == {}  # after a restart too


def test_a_scan_stats_only_the_files_releases_name(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        put(newsroom, wall, f"{name}.txt", release(name.upper()))
    put_bundle(newsroom, wall, photo_bytes())
    scanner.look()
    stats: list[str] = []
    real_stat = os.stat

    def counting(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        stats.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    assert scanner.look().result.stored == {}
    # The folder listing as before, plus one stat for the one file a release names.
    assert [Path(p).relative_to(newsroom.items).as_posix() for p in stats] == ["signing/photo.jpg"]


def test_a_photo_replaced_with_an_older_mtime_is_an_edit(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    path = put_bundle(newsroom, wall, photo_bytes())
    scanner.look()
    before = newsroom.store.releases.get("signing")
    assert before is not None
    first = path.stat()
    newsroom.clock.advance(hours=2)
    # cp -p / rsync -t: other bytes of the same size, with the modification time the photo
    # had: only its ctime says it changed.
    put_photo(newsroom, wall, photo_bytes(comment=b"B"))
    os.utime(path, ns=(first.st_atime_ns, first.st_mtime_ns))
    now = path.stat()
    assert (now.st_size, now.st_mtime_ns) == (first.st_size, first.st_mtime_ns)
    look = scanner.look()
    assert look.changes.updated == ["signing"]
    after = newsroom.store.releases.get("signing")
    assert after is not None
    assert after.release.content_hash != before.release.content_hash
    assert after.release.media[0].sha256 != before.release.media[0].sha256
    assert after.updated == newsroom.clock.now() > before.updated


def test_a_bad_photo_keeps_the_published_version_and_is_reported_once(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    good = photo_bytes()
    put_bundle(newsroom, wall, good)
    scanner.look()
    before = newsroom.store.releases.get("signing")
    put_photo(newsroom, wall, good[: len(good) // 2])
    look = scanner.look()
    [problem] = look.new_problems
    assert str(problem).startswith("signing/index.md:8: photo.jpg is truncated or corrupt (")
    assert not look.changes
    assert newsroom.store.releases.get("signing") == before
    again = scanner.look()
    assert again.new_problems == [] and again.result.stored == {}
    assert len(scanner.problems) == 1


def test_a_missing_photo_copied_in_later_publishes_the_release(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    put(newsroom, wall, "signing/index.md", BUNDLE)
    assert [str(p) for p in scanner.look().new_problems] == [
        "signing/index.md:8: photo.jpg does not exist (expected signing/photo.jpg)"
    ]
    again = scanner.look()
    assert again.result.problems == [] and again.new_problems == []  # not read again
    put_photo(newsroom, wall, photo_bytes())
    look = scanner.look()
    assert look.changes.published == ["signing"]
    assert scanner.problems == []


def test_a_removed_photo_is_seen(newsroom: Newsroom, wall: Wall, scanner: Scanner) -> None:
    path = put_bundle(newsroom, wall, photo_bytes())
    scanner.look()
    path.unlink()
    assert [str(p) for p in scanner.look().new_problems] == [
        "signing/index.md:8: photo.jpg does not exist (expected signing/photo.jpg)"
    ]
    stored = newsroom.store.releases.get("signing")
    assert stored is not None and stored.withdrawn_at is None  # its last good version stays


def test_a_photo_still_being_written_waits(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    import time

    put_bundle(newsroom, wall, photo_bytes())
    scanner.look()
    # Written just now (its ctime is the real clock's): the wall clock is set to now.
    wall.now = time.time()
    put_photo(newsroom, wall, photo_bytes(90), age=0)
    look = scanner.look()
    assert look.unsettled == 1 and look.result.stored == {}
    wall.now += 1  # settle_seconds (0.5) later, unchanged: read
    assert scanner.look().changes.updated == ["signing"]


def test_a_half_copied_photo_of_a_new_release_is_not_reported(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    import time

    whole = photo_bytes()
    wall.now = time.time()  # the photo's ctime is the real clock's
    put(newsroom, wall, "signing/index.md", BUNDLE)  # written a minute ago: settled
    put_photo(newsroom, wall, whole[: len(whole) // 2], age=0)  # scp is still at it
    look = scanner.look()
    assert look.new_problems == [] and look.unsettled == 1 and scanner.problems == []
    put_photo(newsroom, wall, whole, age=0)
    wall.now += 1
    look = scanner.look()
    assert look.changes.published == ["signing"] and look.new_problems == []


def test_a_new_release_waits_while_a_file_it_names_is_still_being_copied(
    newsroom: Newsroom, wall: Wall, scanner: Scanner
) -> None:
    """The text settled, the video (here a PDF) beside it still being written: the scanner
    learns of the file only by reading the text, and must not publish it cut (issue 14)."""
    text = BUNDLE.replace("![The minister signs the accord](photo.jpg)", "[Statement](s.pdf)")
    put(newsroom, wall, "signing/index.md", text)
    pdf = newsroom.write("signing/s.pdf", "%PDF-1.7\n1 0 obj<<>>endobj\n")  # cut short
    os.utime(pdf, (wall.now - 0.1, wall.now - 0.1))
    look = scanner.look()
    assert not look.changes and look.unsettled == 1 and look.new_problems == []
    assert newsroom.store.releases.get("signing") is None
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    os.utime(pdf, (wall.now, wall.now))
    wall.now += 0.2  # changed since the last look, and younger than settle_seconds
    assert not scanner.look().changes
    wall.now += 1.0
    look = scanner.look()
    assert look.changes.published == ["signing"]
    stored = newsroom.store.releases.get("signing")
    assert stored is not None and stored.release.media[0].size == 45  # the whole file


# -- issue 18: a look narrowed to the files the watcher named --------------------------------


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every listing of the whole folder the scanner makes (a spy: the real one runs)."""
    import feedsvc.scanner as scanning

    made: list[Path] = []
    real = scanning.release_files

    def listing(folder: Path) -> list:  # type: ignore[type-arg]
        made.append(folder)
        return real(folder)

    monkeypatch.setattr(scanning, "release_files", listing)
    return made


def test_a_narrowed_look_adds_edits_and_withdraws_without_listing_the_folder(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, listings: list[Path]
) -> None:
    put(newsroom, wall, "a.txt", release("Alpha"))
    gone = put(newsroom, wall, "b.txt", release("Beta"))
    put(newsroom, wall, "untouched.txt", release("Untouched"))
    scanner.look()  # the first look is always the whole folder
    assert len(listings) == 1
    put(newsroom, wall, "c.txt", release("Gamma"))
    put(newsroom, wall, "a.txt", release("Alpha, corrected"))
    gone.unlink()
    put(newsroom, wall, "a.txt~", "an editor's backup")
    look = scanner.look(["c.txt", "a.txt", "b.txt", "a.txt~"])
    assert (look.changes.published, look.changes.updated) == (["c"], ["a"])
    assert look.changes.withdrawn == ["b"]
    assert sorted(look.result.stored) == ["a.txt", "c.txt"]
    assert len(listings) == 1, "the folder was listed"
    # Named again, unchanged: nothing read; and the store agrees with a whole look.
    assert scanner.look(["a.txt", "c.txt"]).result.stored == {}
    assert not scanner.look().changes
    assert len(listings) == 2


def test_a_narrowed_look_reads_again_the_release_a_named_file_belongs_to(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, listings: list[Path]
) -> None:
    text = '+++\ntitle = "Accord"\ndate = 2026-11-20T09:00:00+08:00\nsection = "News"\n+++\n'
    put(newsroom, wall, "accord.md", text + "Signed.\n\n![The minister signs](accord.jpg)\n")
    photo = newsroom.write("accord.jpg", photo_bytes())
    os.utime(photo, (wall.now - 60, wall.now - 60))
    assert scanner.look().changes.published == ["accord"]
    before = newsroom.store.releases.get("accord")
    assert before is not None
    newsroom.clock.advance(hours=1)
    newsroom.write("accord.jpg", photo_bytes(angle=90))
    os.utime(photo, (wall.now - 60, wall.now - 60))
    look = scanner.look(["accord.jpg"])
    assert look.changes.updated == ["accord"]
    after = newsroom.store.releases.get("accord")
    assert after is not None and after.release.media[0].sha256 != before.release.media[0].sha256
    assert len(listings) == 1


def test_a_file_still_settling_is_looked_at_again_unnamed(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, listings: list[Path]
) -> None:
    scanner.look()
    put(newsroom, wall, "fresh.txt", release("Fresh"), age=0.0)
    assert scanner.look(["fresh.txt"]).unsettled == 1
    wall.now += 60
    look = scanner.look([])  # the settle wake names nothing
    assert look.changes.published == ["fresh"] and look.unsettled == 0
    assert len(listings) == 1


def test_names_that_cannot_tell_make_a_look_at_the_whole_folder(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, listings: list[Path]
) -> None:
    scanner.look()
    put_bundle(newsroom, wall, photo_bytes())  # a bundle: its folder decides
    assert scanner.look(["signing/photo.jpg"]).changes.published == ["signing"]
    assert len(listings) == 2
    put(newsroom, wall, "later/one.txt", release("In a folder"))
    assert scanner.look(["later"]).changes.published == ["one"]  # a folder made
    assert len(listings) == 3
    assert scanner.look(["stray.pdf"]).result.stored == {}  # no release names it
    assert len(listings) == 3
    for path in (newsroom.items / "later").iterdir():
        path.unlink()
    (newsroom.items / "later").rmdir()
    assert scanner.look(["later"]).changes.withdrawn == ["one"]  # a folder that held one
    assert len(listings) == 4


def test_a_bad_file_mended_or_gone_in_a_narrowed_look_is_no_longer_a_problem(
    newsroom: Newsroom, wall: Wall, scanner: Scanner, listings: list[Path]
) -> None:
    put(newsroom, wall, "a.txt", "")
    put(newsroom, wall, "b.txt", "")
    assert len(scanner.look().new_problems) == 2
    put(newsroom, wall, "a.txt", release("Alpha"))
    assert scanner.look(["a.txt"]).changes.published == ["a"]
    assert [p.path for p in scanner.problems] == ["b.txt"]  # not looked at: still bad
    (newsroom.items / "b.txt").unlink()
    scanner.look(["b.txt"])
    assert scanner.problems == []
    assert len(listings) == 1
