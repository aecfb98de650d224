"""A second `feedsvc build` into the same export reuses what did not change (issue 18 item
2): after each kind of change, the export equals, file for file and byte for byte, a cold
build of the same store into a fresh folder; what did not change is the previous export's
file (the same inode), what did is rendered again; a tampered or missing file is not
trusted; a failed build leaves export and manifest as they were."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.build import build_site, site_of
from feedsvc.publishing import manifest, spare
from feedsvc.publishing.export import ExportStats
from feedsvc.publishing.groups import grouped_documents
from feedsvc.publishing.site import Site
from feedsvc.store.build_reads import published_rows, sitemap_listings, sitemap_reads
from tests.conftest import Newsroom, make_newsroom
from tests.publishing.test_tags import release
from tests.web.media_items import JPEG, PDF, bundle


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(
        tmp_path,
        languages={"zh": {"title": "外交部新闻发布"}},
        feeds={"archive_page_size": 2},  # several archive and index pages from a few releases
        pages={"per_page": 2},
    )
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", "Climate"]))
    room.write("b.md", release("Talks", "2026-11-21T10:00:00+08:00", ["Climate"], "Speeches"))
    room.write("c.md", release("Old news", "2026-11-01T10:00:00+08:00", ["Trade"]))
    room.write("d.md", release("Visit", "2026-11-02T10:00:00+08:00", []))
    room.write("e.md", release("Summit", "2026-11-03T10:00:00+08:00", ["Climate"], "Speeches"))
    room.write("a.zh.md", release("贸易协定", "2026-11-20T10:00:00+08:00", ["外交"]))
    room.write(
        "soon.md",
        release(
            "Embargoed",
            "2026-11-28T09:00:00Z",
            ["Trade"],
            extra="publish_at: 2026-11-28T09:00:00Z\n",
        ),
    )
    assert room.ingest().problems == []
    yield room
    room.store.close()


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes, and every folder (None): a folder a cold build would not make
    is a difference too."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def inode(out: Path, file: str) -> int:
    return (out / file).stat().st_ino


class Builds:
    """Builds of one newsroom: into `out` again and again, and cold into fresh folders."""

    def __init__(self, room: Newsroom) -> None:
        self.room = room
        self.settings = room.settings
        self.out = room.root / "public"
        self.colds = 0

    def again(self, ahead: spare.Listing | None = None) -> ExportStats:
        return build_site(self.settings, self.room.clock, self.out, parts=1, ahead=ahead)

    def ahead(self) -> spare.Listing | None:
        """The spare listed from now on, as `feedsvc build` lists it at its start."""
        return spare.list_ahead(manifest.manifest_path(self.settings, self.out), self.out)

    def cold(self) -> dict[str, bytes | None]:
        self.colds += 1
        fresh = self.room.root / f"cold-{self.colds}"
        stats = build_site(self.settings, self.room.clock, fresh, parts=2)
        assert stats.reused == 0
        return tree(fresh)

    @property
    def spare(self) -> Path:
        where = manifest.manifest_path(self.settings, self.out)
        assert where is not None
        folders = spare.Spare(where, self.out, lambda _: None).folders
        return next((folder for folder in folders if folder.exists()), folders[0])

    def check(self, ahead: spare.Listing | None = None) -> ExportStats:
        """A build into `out`, which must equal a cold one; the export it replaced is set
        aside as the spare exactly as it was served (nothing written through its files)."""
        served = tree(self.out)
        stats = self.again(ahead)
        assert tree(self.out) == self.cold()
        assert tree(self.spare) == served
        return stats


@pytest.fixture
def builds(room: Newsroom) -> Builds:
    builds = Builds(room)
    first = builds.again()
    assert first.reused == 0  # nothing to reuse yet
    return builds


def test_unchanged_store_reuses_every_keyed_document(builds: Builds) -> None:
    before = inode(builds.out, "releases/a/index.html")
    stats = builds.check()
    assert stats.reused > stats.files // 2
    assert inode(builds.out, "releases/a/index.html") == before


def test_a_changed_release_is_rendered_and_the_rest_reused(builds: Builds) -> None:
    out, room = builds.out, builds.room
    same = {f: inode(out, f) for f in ("releases/b/index.html", "releases/c/index.html")}
    changed = inode(out, "releases/a/index.html")
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    assert room.ingest().changes.updated
    stats = builds.check()
    assert stats.reused > 0
    assert {f: inode(out, f) for f in same} == same
    assert inode(out, "releases/a/index.html") != changed
    assert b"revised" in (out / "releases/a/index.html").read_bytes()


def test_each_kind_of_change_equals_a_cold_build(builds: Builds) -> None:
    room = builds.room
    steps = [
        lambda: room.write("f.md", release("New", "2026-11-25T10:00:00+08:00", ["Trade"])),
        lambda: (room.items / "c.md").unlink(),  # withdrawn: a tombstone, a 410
        lambda: room.write("b.zh.md", release("会谈", "2026-11-21T10:00:00+08:00", [])),
        lambda: room.write("a.zh.md", release("贸易协定（修订）", "2026-11-20T10:00:00+08:00", [])),
        lambda: room.clock.advance(days=1),  # the embargo of soon.md passes
        lambda: room.clock.advance(days=31),  # the tombstone of c.md expires
    ]
    for step in steps:
        step()
        room.clock.advance(minutes=1)
        room.ingest()
        stats = builds.check()
        assert stats.reused > 0, (step, stats)
    assert (builds.out / "releases/soon/index.html").is_file()


def test_a_setting_that_reaches_every_page_renders_them_all(builds: Builds) -> None:
    site = dataclasses.replace(builds.settings.site, title="Renamed Press Office")
    builds.settings = dataclasses.replace(builds.settings, site=site)
    stats = builds.check()
    assert stats.reused == 0
    assert b"Renamed Press Office" in (builds.out / "releases/a/index.html").read_bytes()


def test_a_tampered_or_missing_file_is_rendered_again(builds: Builds) -> None:
    out = builds.out
    page_a, page_b = out / "releases/a/index.html", out / "releases/b/index.html"
    page_a.write_bytes(page_a.read_bytes()[::-1])  # the same size, edited in place
    os.utime(page_a, ns=(page_a.stat().st_atime_ns, page_a.stat().st_mtime_ns + 10**9))
    page_b.unlink()
    archive = next(out.glob("archive/*/feed.xml.gz"))
    archive.write_bytes(b"not gzip")
    kept = inode(out, "releases/c/index.html")
    stats = builds.check()
    assert stats.reused > 0
    assert inode(out, "releases/c/index.html") == kept


def fail_after_a_change(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release changes, and the next build fails writing its page (the disk full)."""
    room = builds.room
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    room.ingest()

    def explode(self: Site, stored: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(Site, "release_page", explode)
        with pytest.raises(Exception, match="No space left on device"):
            builds.again()


def test_a_failed_build_leaves_export_and_manifest_as_they_were(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = builds.out
    where = manifest.manifest_path(builds.settings, out)
    assert where is not None and where.is_file()
    before, kept = tree(out), where.read_bytes()
    fail_after_a_change(builds, monkeypatch)
    assert tree(out) == before and where.read_bytes() == kept
    assert not [p for p in where.parent.iterdir() if p.name.endswith(".new")]
    builds.check()


def test_a_build_stopped_after_the_swap_leaves_a_manifest_no_one_trusts(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest names the export folder it describes: one left from before the swap
    (the build died between the two) describes another, and the next build is cold."""
    room = builds.room
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    room.ingest()
    with monkeypatch.context() as m:
        # Stopped right after the swap: no manifest moved or committed.
        m.setattr(spare.Spare, "commit", lambda self, pending: pending.unlink())
        builds.again()
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", "Climate"]))
    room.clock.advance(minutes=5)
    room.ingest()
    stats = builds.check()
    assert stats.reused == 0


@pytest.mark.parametrize("written", ["json", "truncated", "other python"])
def test_a_manifest_in_another_format_is_not_read_and_the_build_is_cold(
    builds: Builds, written: str
) -> None:
    """The manifest is marshal's, behind a header naming the format and the Python: one
    written otherwise (the JSON of before, another Python, a file cut short) describes
    nothing, and the build is a cold one, as good as any; the JSON ones are removed."""
    where = manifest.manifest_path(builds.settings, builds.out)
    assert where is not None
    header, _, data = where.read_bytes().partition(b"\n")
    legacy = where.with_suffix(".json"), where.with_suffix(".spare.json")
    if written == "json":
        where.write_text('{"version": 1, "folder": [1, 2], "groups": {}}')
        for path in legacy:
            path.write_text("{}")
    elif written == "truncated":
        where.write_bytes(header + b"\n" + data[: len(data) // 2])
    else:
        where.write_bytes(header.replace(b" py", b" py9") + b"\n" + data)
    assert manifest.load(where, builds.out) is None
    stats = builds.check()
    assert stats.reused == 0
    assert manifest.load(where, builds.out) is not None  # the next build's, in this format
    assert not any(path.exists() for path in legacy)


def test_grouped_documents_are_the_sites_documents(room: Newsroom) -> None:
    """A cold build goes through publishing/groups.py: every document Sites.documents has
    (a new kind of document added there and not here fails this)."""
    sites = site_of(room.settings, room.store.releases, room.clock)
    ours = {doc.path: doc.body for _, doc in grouped_documents(sites, ())}
    assert ours == {doc.path: doc.body for doc in sites.documents()}


def withdraw_one(room: Newsroom) -> None:
    """A release published, then withdrawn: in a section of its own, "Notes"."""
    room.write("w.md", release("Withdrawn soon", "2026-11-04T10:00:00+08:00", [], "Notes"))
    room.clock.advance(minutes=1)
    room.ingest()
    (room.items / "w.md").unlink()
    room.clock.advance(minutes=1)
    assert room.ingest().changes.withdrawn


def test_the_sitemap_from_the_keys_rows_is_the_sitemap_read(room: Newsroom) -> None:
    """A build makes the sitemap from the rows it keyed the store with (no second read):
    the same listings, the same section slugs, the same bytes; a withdrawn release and
    a section only it had are in neither listing but the section stays (its tombstones)."""
    withdraw_one(room)
    engine = room.store.releases.engine
    rows = published_rows(engine)[0]
    listings, slugs = sitemap_reads(engine, rows)
    assert listings == sitemap_listings(engine)
    sites = site_of(room.settings, room.store.releases, room.clock)
    for site in sites.all:
        assert slugs[site.scope or ""] == [slug for slug, _ in site.store.sections()]
    assert "notes" in slugs[""] and "w" not in [e.id for e in listings[""]]
    read = {doc.path: doc.body for _, doc in grouped_documents(sites, ()) if _ is not None}
    made = {doc.path: doc.body for _, doc in grouped_documents(sites, (), rows=rows) if _}
    sitemap = [path for path in read if "sitemap" in path and "news" not in path]
    assert sitemap and {p: made[p] for p in sitemap} == {p: read[p] for p in sitemap}


def test_index_pages_from_the_keys_rows_are_the_index_pages_read(room: Newsroom) -> None:
    """A build renders its few index pages from the keys the rows put on each (issue 18),
    not from an OFFSET read: the same releases in the same order, every page, both
    languages, a withdrawn release on neither."""
    withdraw_one(room)
    rows = published_rows(room.store.releases.engine)[0]
    sites = site_of(room.settings, room.store.releases, room.clock)
    read = {doc.path: doc.body for g, doc in grouped_documents(sites, ()) if g}
    made = {doc.path: doc.body for g, doc in grouped_documents(sites, (), rows=rows) if g}
    pages = [p for p in read if p in ("", "zh/") or p.startswith(("page/", "zh/page/"))]
    assert len(pages) >= 4, pages  # the home page and two more; the Chinese home page
    assert {p: made[p] for p in pages} == {p: read[p] for p in pages}


def test_the_replaced_export_is_the_next_builds_spare(builds: Builds) -> None:
    """The replaced export is kept in the cache folder, never beside the export, and the
    next build brings it up to date in place (spare.py): the two folders take turns."""
    first = builds.out.stat().st_ino
    builds.again()
    second = builds.out.stat().st_ino
    assert builds.spare.stat().st_ino == first != second
    stats = builds.check()
    assert builds.out.stat().st_ino == first and builds.spare.stat().st_ino == second
    assert stats.reused > stats.files // 2
    assert [p.name for p in builds.room.root.iterdir() if "public" in p.name] == ["public"]


def test_what_nobody_wrote_into_the_export_is_not_kept(builds: Builds) -> None:
    """A file or folder dropped into the served export (an operator's, a web server's) is
    in no manifest: when that export is next updated as the spare, it goes."""
    (builds.out / "google1234.html").write_text("verification")
    (builds.out / "releases/a/notes").mkdir()
    (builds.out / "releases/a/notes/draft.txt").write_text("draft")
    (builds.out / "empty").mkdir()
    builds.again()  # that export becomes the spare
    builds.check()  # ...and is brought up to date: it must equal a cold build


def test_a_spare_half_brought_up_to_date_is_never_trusted(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds.again()
    fail_after_a_change(builds, monkeypatch)  # after the spare was taken and pruned
    assert not builds.spare.exists()
    assert not [p for p in builds.spare.parent.iterdir() if p.name.endswith(".spare.manifest")]
    builds.again()
    builds.check()


def test_find_lists_the_spare_as_python_would(builds: Builds) -> None:
    """`find`'s sizes, inodes and nanosecond mtimes are os.lstat's (a wrong one would keep
    nothing, or the wrong file); without `find`, the walk in this process gives the same."""
    (builds.out / "link").symlink_to("index.html")
    (builds.out / "folder-link").symlink_to("releases")
    files, folders = spare.Listing(builds.out).read()
    walked, walked_folders = spare._walk(builds.out)
    assert files == walked and sorted(folders) == sorted(walked_folders)
    st = (builds.out / "index.html").stat()
    assert files["index.html"] == (st.st_size, st.st_ino, st.st_mtime_ns)
    assert files["link"] == files["folder-link"] == (-1, -1, -1) and "releases/a" in folders


def test_a_listing_is_never_held_up_by_its_reader(tmp_path: Path) -> None:
    """`find` writes its listing into a file: into a pipe it would stop at 64 KiB until
    read, and a listing begun at the start of `feedsvc build` would get no further while
    the build reads the folder and keys the store (issue 18)."""
    root = tmp_path / "many"
    root.mkdir()
    for i in range(1500):  # ~150 KB of listing
        (root / f"{'x' * 80}-{i:05d}.html").write_bytes(b"")
    listing = spare.Listing(root)
    assert listing._find is not None
    listing._find.wait(timeout=60)  # nobody has read a byte
    files, _ = listing.read()
    assert len(files) == 1500


def test_without_room_for_finds_listing_the_spare_is_walked(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full or missing temporary folder costs the listing's speed, never the build."""
    walked = spare._walk(builds.out)

    def no_room() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(spare.tempfile, "TemporaryFile", no_room)
        listing = spare.Listing(builds.out)
        assert listing.read() == walked
        listing.close()
        builds.again()
        room = builds.room
        room.write("a.md", release("Trade deal, again", "2026-11-20T10:00:00+08:00", ["Trade"]))
        room.clock.advance(minutes=5)
        room.ingest()
        assert builds.check().reused > 0


def test_the_spare_listed_before_the_build_is_not_listed_again(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds.again()
    room = builds.room
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    assert room.ingest().changes.updated
    ahead = builds.ahead()
    assert ahead is not None and ahead.lists(builds.spare)

    def listed_twice(root: Path) -> None:
        raise AssertionError(f"{root} listed again")

    with monkeypatch.context() as m:
        m.setattr("feedsvc.publishing.reuse.Listing", listed_twice)
        stats = builds.check(ahead)
    assert stats.reused > 0


def test_a_listing_of_a_spare_another_build_took_is_not_used(builds: Builds) -> None:
    """Listed, then taken by another build, whose replaced export is the spare now (at
    the same path, with a manifest that fits it, and with a release the listing lacks):
    that one is listed anew."""
    room = builds.room
    room.write("f.md", release("New", "2026-11-25T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    room.ingest()
    builds.again()  # the export has f; the spare, not yet
    ahead = builds.ahead()
    assert ahead is not None and not (builds.spare / "releases/f").exists()
    room.write("b.md", release("Talks, moved", "2026-11-21T10:00:00+08:00", ["Climate"]))
    room.clock.advance(minutes=5)
    room.ingest()
    builds.check()  # took the spare listed; the export with f is the spare now
    assert (builds.spare / "releases/f").exists() and not ahead.lists(builds.spare)
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    room.ingest()
    stats = builds.check(ahead)
    ahead.close()  # as feedsvc build does: its creator closes it
    assert stats.reused > 0


def test_a_releases_files_stay_in_the_spare_while_they_are_the_same(builds: Builds) -> None:
    """A picture and a PDF: kept in the spare while they are the media cache's very file,
    gone with their release, as a cold build has them."""
    room = builds.room
    bundle(room.items / "visit", "visit", {"photo.jpg": JPEG, "statement.pdf": PDF})
    room.clock.advance(minutes=1)
    assert room.ingest().problems == []
    builds.check()
    pdf = builds.out / "releases/visit/statement.pdf"
    same = {p.name: p.stat().st_ino for p in pdf.parent.iterdir() if p.name != "index.html"}
    assert "photo.jpg" in same and len(same) > 2  # the picture's variants too
    builds.check()
    builds.check()  # the spare held them: kept, not linked again
    assert {p.name: p.stat().st_ino for p in pdf.parent.iterdir() if p.name in same} == same
    shutil.rmtree(room.items / "visit")
    room.clock.advance(minutes=1)
    room.ingest()
    builds.check()
    builds.check()
    assert not pdf.exists()


def test_a_cache_folder_on_another_mount_keeps_the_spare_beside_the_export(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under deploy/feedsvc-export.service the cache folder and the export's folder are
    different mounts (CacheDirectory, ReadWritePaths): no rename crosses them (EXDEV). The
    spare is then a hidden folder beside the export, which nginx, serving the export
    itself, never serves."""
    cache = builds.settings.server.cache_dir.resolve()
    rename = os.rename

    def mounts_apart(src: object, dst: object) -> None:
        a, b = Path(str(src)).resolve(), Path(str(dst)).resolve()
        if a.is_relative_to(cache) != b.is_relative_to(cache):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", mounts_apart)
    builds.again()
    assert builds.spare == builds.out.with_name(".public.spare")
    builds.room.write("f.md", release("New", "2026-11-25T10:00:00+08:00", ["Trade"]))
    builds.room.clock.advance(minutes=1)
    builds.room.ingest()
    stats = builds.check()
    assert stats.reused > stats.files // 2
    names = sorted(p.name for p in builds.room.root.iterdir() if "public" in p.name)
    assert names == [".public.spare", "public"]


def test_the_main_feeds_move_only_with_what_they_show(builds: Builds) -> None:
    """The main feeds show the newest feeds.limit releases and the tombstones: an edit
    further down leaves them as they were (the same files), one among them moves them."""
    feeds = dataclasses.replace(builds.settings.feeds, limit=2)  # b and a, the newest
    builds.settings = dataclasses.replace(builds.settings, feeds=feeds)
    builds.again()
    out, room = builds.out, builds.room
    main = {f: inode(out, f) for f in ("feed.xml", "atom.xml.gz", "feed.json")}
    room.write("c.md", release("Old news, revised", "2026-11-01T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    assert room.ingest().changes.updated
    builds.check()
    assert {f: inode(out, f) for f in main} == main
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    room.clock.advance(minutes=5)
    assert room.ingest().changes.updated
    builds.check()
    assert b"revised" in (out / "feed.xml").read_bytes()
    # Releases dated far back: not among the newest, but they open a new archive page,
    # which the main feeds link to (RFC 5005 prev-archive).
    for name in ("x", "y"):
        room.write(f"{name}.md", release(name, "2026-10-01T10:00:00+08:00", []))
        room.clock.advance(minutes=5)
        room.ingest()
        builds.check()
