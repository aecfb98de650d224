"""`feedsvc build` exports every file of every visible release (issue 14): attachments as
read, pictures re-encoded under their own name and every variant, hard-linked from the media
cache that `feedsvc serve` shares, byte-identical from one build to the next."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc import layout
from feedsvc.media import name, plan
from tests.web.conftest import Server, build, wait_for
from tests.web.media_items import DOCX, INFO, JPEG, PDF, SHA, WIDEST, XMP_GPS, bundle


def exported(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def cached(folder: Path) -> dict[str, tuple[int, int]]:
    """The media cache's files: name -> (inode, mtime_ns); a file made again changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "office")
    bundle(
        srv.items / "visit", "visit", {"photo.jpg": JPEG, "statement.pdf": PDF, "annex.docx": DOCX}
    )
    bundle(
        srv.items / "later", "later", {"plan.pdf": PDF}, extra="publish_at = 2099-01-01T00:00:00Z"
    )
    srv.write(
        "plain.md",
        '+++\ntitle = "Plain"\nsection = "Statements"\ndate = 2026-11-19T10:00:00Z\n+++\nNo files.\n',
    )
    yield srv
    srv.kill()


def test_the_export_holds_every_file_and_two_builds_are_identical(office: Server) -> None:
    out = office.root / "public"
    build(office, out)
    first = exported(out)
    variants = {name(SHA, recipe) for recipe in plan(INFO)}
    visit = {
        layout.release_file("visit", n)
        for n in (*variants, "photo.jpg", "statement.pdf", "annex.docx")
    }
    assert visit <= set(first)
    assert not [p for p in first if p.startswith("releases/later/")]  # under embargo
    assert "releases/plain/index.html" in first  # a release without files, as before
    assert first["releases/visit/statement.pdf"] == PDF
    assert first["releases/visit/annex.docx"] == DOCX
    assert first["releases/visit/photo.jpg"] == first[layout.release_file("visit", WIDEST)]
    assert (
        first["releases/visit/photo.jpg"] != JPEG
        and XMP_GPS not in first["releases/visit/photo.jpg"]
    )
    media = office.root / "var" / "media"
    for file_name in variants:  # hard links to the cache, not copies
        assert (out / "releases/visit" / file_name).stat().st_ino == (
            media / file_name
        ).stat().st_ino
    build(office, out)
    assert exported(out) == first


def test_a_variant_is_made_once_across_build_and_serve(office: Server) -> None:
    build(office, office.root / "public")
    media = office.root / "var" / "media"
    made = cached(media)
    assert {name(SHA, recipe) for recipe in plan(INFO)} <= set(made)
    # Without its source, serve can only send what the build made.
    (office.items / "visit" / "photo.jpg").unlink()
    office.start(lambda s: wait_for(lambda: s.get("/releases/visit/").status_code == 200, 15))
    for recipe in plan(INFO):
        assert office.get("/" + layout.release_file("visit", name(SHA, recipe))).status_code == 200
    assert office.get("/releases/visit/statement.pdf").content == PDF
    assert office.get("/releases/visit/photo.jpg").status_code == 200
    office.stop()
    assert cached(media) == made  # nothing made again, nothing new
