"""The parallel build writes exactly the bytes the one-process build writes (issue 18 item
1): the same files, each byte for byte, for a site with pictures, a translation, tags,
sections, several archive and index pages, a release under embargo and a withdrawn one.
Whatever the faster build shares or reuses between documents, the parts must not show."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from feedsvc.build import build_site
from tests.conftest import Newsroom, make_newsroom
from tests.web.media_items import JPEG, PDF, bundle


def md(title: str, date: str, body: str, **meta: str) -> str:
    fields = {"title": title, "date": date, "section": "News", **meta}
    head = "".join(
        f"{k} = {v}\n" if k in ("tags", "date") else f'{k} = "{v}"\n' for k, v in fields.items()
    )
    return f"+++\n{head}+++\n\n{body}\n"


def office(root: Path) -> Newsroom:
    room = make_newsroom(
        root,
        languages={"zh": {"title": "外交部新闻发布"}},
        feeds={"limit": 3, "archive_page_size": 2},
        pages={"per_page": 2},
    )
    for n in range(1, 8):
        section = "Speeches" if n % 2 else "News"
        tags = '["Trade", "Asia"]' if n % 3 else '["Trade"]'
        room.write(
            f"r{n}.md",
            md(
                f"Release {n} & <more>",
                f"2026-11-{10 + n:02d}T09:00:00Z",
                f"Text {n}.",
                section=section,
                tags=tags,
            ),
        )
    room.write("r1.zh.md", md("第一条新闻", "2026-11-11T09:00:00Z", "中文正文。", tags='["贸易"]'))
    bundle(room.items / "visit", "visit", {"photo.jpg": JPEG, "statement.pdf": PDF})
    room.write(
        "later.md",
        md("Later", "2026-11-20T09:00:00Z", "Not yet.", publish_at="2099-01-01T00:00:00Z"),
    )
    room.write("gone.md", md("Gone", "2026-11-05T09:00:00Z", "Withdrawn soon."))
    assert room.ingest().problems == []
    (room.items / "gone.md").unlink()
    assert room.ingest().changes.withdrawn == ["gone"]
    return room


def files_of(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file()
    }


def one_and_two_parts(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The office's export built in one part, and in two processes' parts."""
    room = office(tmp_path)
    try:
        one, two = tmp_path / "one", tmp_path / "two"
        build_site(room.settings, room.clock, one, parts=1)
        build_site(room.settings, room.clock, two, parts=2)
    finally:
        room.store.close()
    return files_of(one), files_of(two)


def test_two_parts_write_the_bytes_one_part_writes(tmp_path: Path) -> None:
    first, second = one_and_two_parts(tmp_path)
    assert sorted(first) == sorted(second)
    assert [path for path in first if first[path] != second[path]] == []
    # The corpus is what it says: every kind of document is there to compare.
    for path in (
        "archive/3/feed.xml.gz",
        "page/2/index.html",
        "releases/visit/photo.jpg",
        "zh/releases/r1/index.html",
        "tags/trade/atom.xml",
        "sections/speeches/feed.json",
    ):
        assert path in first, path
    assert not [path for path in first if "later" in path]
    assert b"at:deleted-entry" in first["atom.xml"]  # the withdrawn one's tombstone
    assert len(first["index.html"]) > 0


def test_a_pool_of_parts_writes_the_bytes_one_part_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, through the process pool a large build uses (issue 18: part 0 renders what
    is made once, the other parts share out the archive and release pages). Here the site
    is small, so its few releases would be rendered in one process: that shortcut is off."""
    import feedsvc.build
    import feedsvc.publishing.reuse

    monkeypatch.setattr(feedsvc.publishing.reuse, "FEW_RELEASES", 0)
    parts: list[tuple[int, int]] = []

    class Recording(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            parts.append(args[3:5])  # _render_part(settings, clock, root, part, parts, ...)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(feedsvc.build, "ProcessPoolExecutor", Recording)
    first, second = one_and_two_parts(tmp_path)
    assert parts == [(n, 8) for n in range(8)]  # two processes, eight parts
    assert sorted(first) == sorted(second)
    assert [path for path in first if first[path] != second[path]] == []


def test_a_build_reads_each_release_once_for_its_page_and_its_archive_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the release pages are rendered from the rows their archive page was read
    from, not from a second read of every release; the bytes are the plain path's."""
    import feedsvc.publishing.reuse
    from feedsvc.store.release_reads import ReleaseReads

    monkeypatch.setattr(feedsvc.publishing.reuse, "FEW_RELEASES", 0)
    read: list[int] = []
    by_seq = ReleaseReads.by_seq

    def counted(self: ReleaseReads, first: int, last: int) -> list:  # type: ignore[type-arg]
        found = by_seq(self, first, last)
        read.extend(1 for _ in found)
        return found

    def refused(*_args: object, **_named: object) -> None:
        raise AssertionError("every visible release read again")

    room = office(tmp_path)
    try:
        from feedsvc.build import release_media, site_of

        sites = site_of(
            room.settings, room.store.releases, room.clock, release_media(room.settings)
        )
        plain = {doc.file: doc.body for doc in sites.documents()}
        monkeypatch.setattr(ReleaseReads, "by_seq", counted)
        monkeypatch.setattr(ReleaseReads, "iter_visible", refused)
        build_site(room.settings, room.clock, tmp_path / "out", parts=1)
    finally:
        room.store.close()
    built = files_of(tmp_path / "out")
    pages = [path for path in plain if path.startswith(("releases/", "zh/releases/"))]
    assert len(pages) >= 8 and all(built[path] == plain[path] for path in pages)
    assert len(read) == len(pages)  # one read of each, on its archive page
