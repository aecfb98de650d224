"""The live service in process: scanner, embargo and document cache, with a moved clock."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.clock import FixedClock
from feedsvc.config import settings_from_dict
from feedsvc.publishing.cache import Missing, Ready
from feedsvc.service import Service
from feedsvc.sharing.requests import parse
from tests.conftest import BASE_URL, SEED, SEED_ID, Wall, new_database_url, newsroom_text

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = settings_from_dict(
        {
            "site": {"base_url": BASE_URL, "timezone": "Asia/Shanghai"},
            "items": {"dir": "items", "settle_seconds": 1.0},
            "pages": {"per_page": 2},
            "feeds": {"archive_page_size": 2},
            "server": {"memory_cache_mb": 1},
            "database": {"url": new_database_url(tmp_path)},
        },
        root=tmp_path,
    )
    (tmp_path / "items").mkdir()
    svc = Service(settings, FixedClock(NOW))
    svc.scanner.wall_time = Wall()
    yield svc
    svc.close()


def write(service: Service, name: str, text: str, age: float = 60.0) -> Path:
    """A file whose mtime is `age` seconds before the scanner's wall clock."""
    path = service.settings.items.dir / name
    path.write_text(text, encoding="utf-8")
    mtime = service.scanner.wall_time() - age
    os.utime(path, (mtime, mtime))
    return path


def release(service: Service, name: str, title: str, date: str, age: float = 60.0) -> Path:
    return write(service, name, newsroom_text(title, date, ["the ministry said."]), age)


def feed(service: Service) -> str:
    return service.cache.hot["feed.xml"].body.decode()


def test_start_publishes_and_caches_the_seed(service: Service) -> None:
    shutil.copy(SEED, service.settings.items.dir / SEED.name)
    service.start()
    assert "Wang Yi" in feed(service)
    page = service.cache.get(f"releases/{SEED_ID}/")
    assert isinstance(page, Ready)
    expected = service.site.default.release_page(service.store.releases.get(SEED_ID))  # type: ignore[arg-type]
    assert page.body == expected.body
    assert page.media_type == "text/html; charset=utf-8"
    assert page.gzip is not None and page.etag != page.gzip_etag
    assert page.last_modified == "Fri, 11 Sep 2020 01:00:00 GMT"


def test_a_fresh_file_waits_until_it_has_settled(service: Service) -> None:
    service.start()
    release(service, "new.txt", "Fresh", "March 1, 2021", age=0.2)
    tick = service.scan()
    assert tick.unsettled == 1 and not tick.changes
    assert "Fresh" not in feed(service)
    tick = service.scan()  # unchanged since the last look: settled
    assert tick.changes.published == ["new"]
    assert "Fresh" in feed(service)


def test_a_file_still_growing_is_never_published_half_written(service: Service) -> None:
    service.start()
    full = newsroom_text("Growing", "March 1, 2021", ["first part.", "second part, the end."])
    path = service.settings.items.dir / "grow.txt"
    for end in (len(full) // 3, 2 * len(full) // 3, len(full)):
        path.write_text(full[:end], encoding="utf-8")
        mtime = service.scanner.wall_time() - 0.1
        os.utime(path, (mtime, mtime))
        assert not service.scan().changes  # changed since the last look: not read
        service.scanner.wall_time.now += 0.1  # type: ignore[attr-defined]
    assert service.scan().changes.published == ["grow"]
    stored = service.store.releases.get("grow")
    assert stored is not None and "the end." in stored.release.body_html


def test_a_file_that_turns_bad_is_reported_once_and_keeps_its_last_good_version(
    service: Service, caplog
) -> None:
    release(service, "a.txt", "Good", "March 1, 2021")
    service.start()
    write(service, "a.txt", "", age=30)
    for _ in range(3):
        service.scan()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "a.txt:1: empty file: expected a release"
    ]
    assert service.metrics.read_errors == 1
    assert "Good" in feed(service)
    assert [str(p) for p in service.scanner.problems] == ["a.txt:1: empty file: expected a release"]
    release(service, "a.txt", "Fixed", "March 1, 2021", age=10)
    assert service.scan().changes.updated == ["a"]
    assert service.scanner.problems == []
    write(service, "a.txt", "", age=5)
    service.scan()
    assert service.metrics.read_errors == 2  # a new change of the file: reported again


def test_embargo_lifts_when_the_clock_passes_it(service: Service) -> None:
    at = NOW + dt.timedelta(hours=1)
    write(
        service,
        "secret.md",
        f'+++\ntitle = "Embargoed"\ndate = 2026-11-27\nsection = "S"\npublish_at = {at.isoformat()}\n+++\nText.\n',
    )
    service.start()
    assert "Embargoed" not in feed(service)
    assert service.cache.get("releases/secret/") is Missing.NOT_FOUND  # not 410: never public
    assert service.next_embargo() == at
    sitemap = service.cache.get("sitemap.xml")
    assert isinstance(sitemap, Ready) and b"secret" not in sitemap.body

    service.clock.advance(minutes=59)  # type: ignore[attr-defined]
    assert not service.publish_due().changes
    service.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert service.publish_due().changes.published == ["secret"]
    assert "Embargoed" in feed(service)
    assert isinstance(service.cache.get("releases/secret/"), Ready)
    sitemap = service.cache.get("sitemap.xml")
    assert isinstance(sitemap, Ready) and b"releases/secret/" in sitemap.body
    assert service.next_embargo() is None


def test_an_embargo_that_fell_due_while_down_is_published_at_start(service: Service) -> None:
    at = NOW - dt.timedelta(minutes=5)
    write(
        service,
        "late.md",
        f'+++\ntitle = "Late"\ndate = 2026-11-27\nsection = "S"\npublish_at = {at.isoformat()}\n+++\nText.\n',
    )
    service.start()
    assert "Late" in feed(service)


def test_withdrawn_is_gone_and_unknown_is_not_found(service: Service) -> None:
    path = release(service, "a.txt", "A", "March 1, 2021")
    service.start()
    assert isinstance(service.cache.get("releases/a/"), Ready)
    path.unlink()
    assert service.scan().changes.withdrawn == ["a"]
    assert service.cache.get("releases/a/") is Missing.GONE
    assert service.cache.get("releases/nobody/") is Missing.NOT_FOUND
    assert service.cache.get("releases/../../etc/passwd") is Missing.NOT_FOUND
    assert service.cache.get("nothing/here") is Missing.NOT_FOUND
    assert "<at:deleted-entry" in service.cache.hot["atom.xml"].body.decode()


def test_cold_documents_follow_changes(service: Service) -> None:
    for day in range(1, 6):
        release(service, f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    service.start()
    page2 = service.cache.get("page/2/")
    assert isinstance(page2, Ready) and b"Release 3" in page2.body
    assert service.cache.get("page/4/") is Missing.NOT_FOUND
    archive = service.cache.get("archive/3/atom.xml")
    assert isinstance(archive, Ready) and b"Release 5" in archive.body
    assert service.cache.get("archive/4/atom.xml") is Missing.NOT_FOUND

    release(service, "r6.txt", "Release 6", "March 6, 2021")
    service.scan()
    page2 = service.cache.get("page/2/")
    assert isinstance(page2, Ready) and b"Release 4" in page2.body
    archive = service.cache.get("archive/3/atom.xml")
    assert isinstance(archive, Ready) and b"Release 6" in archive.body
    first = service.cache.get("archive/1/atom.xml")
    assert isinstance(first, Ready)
    assert first.body == next(
        d.body
        for d in service.site.default.archive_documents([1])
        if d.path == "archive/1/atom.xml"
    )


def test_a_cold_document_is_rendered_once_then_served_from_disk(
    service: Service, monkeypatch
) -> None:
    release(service, "a.txt", "A", "March 1, 2021")
    service.start()
    first = service.cache.get("releases/a/")
    assert isinstance(first, Ready)
    service.cache._lru.clear()  # as if evicted from memory

    def no_rendering(*_args: object) -> None:
        raise AssertionError("rendered twice for the same data")

    monkeypatch.setattr(service.site.default, "release_page", no_rendering)
    again = service.cache.get("releases/a/")
    assert again == first


def test_memory_cache_is_bounded(service: Service) -> None:
    for n in range(40):
        release(service, f"r{n:02}.txt", f"Release {n} " + "x" * 40, "March 1, 2021")
        write(
            service,
            f"r{n:02}.txt",
            newsroom_text(f"Release {n}", "March 1, 2021", ["y" * 40_000]),
        )
    service.start()
    for n in range(40):
        assert isinstance(service.cache.get(f"releases/r{n:02}/"), Ready)
    assert service.cache._lru_bytes <= 1 << 20
    assert len(service.cache._lru) < 40


def test_section_feeds_follow_their_changes(service: Service) -> None:
    release(service, "a.txt", "In press", "March 1, 2021")
    service.start()
    assert "sections/speeches/feed.xml" not in service.cache.hot
    before = service.cache.hot["sections/press-releases/feed.xml"]
    write(service, "b.txt", newsroom_text("A speech", "March 2, 2021", ["x."], section="Speeches"))
    service.scan()
    assert b"A speech" in service.cache.hot["sections/speeches/feed.xml"].body
    assert service.cache.hot["sections/press-releases/feed.xml"] is before  # untouched
    assert isinstance(service.cache.get("sections/speeches/"), Ready)


def test_a_sitemap_index_past_the_url_limit_is_served(service: Service, monkeypatch) -> None:
    import feedsvc.publishing.sitemap

    monkeypatch.setattr(feedsvc.publishing.sitemap, "SITEMAP_MAX_URLS", 3)
    for day in range(1, 6):
        release(service, f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    service.start()
    index = service.cache.get("sitemap.xml")
    assert isinstance(index, Ready) and b"<sitemapindex" in index.body
    assert index.last_modified is not None
    parts = [service.cache.get(f"sitemaps/{n}.xml") for n in (1, 2, 3, 4)]
    assert all(isinstance(p, Ready) for p in parts[:3])
    assert parts[3] is Missing.NOT_FOUND
    body = b"".join(p.body for p in parts[:3])  # type: ignore[union-attr]
    assert body.count(b"<loc>") == 9  # three index pages, one section, five releases


def test_disk_cache_keeps_only_current_versions(service: Service) -> None:
    for day in range(1, 6):
        release(service, f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    service.start()
    disk = service.cache.disk

    def files() -> int:
        return sum(1 for p in disk.rglob("*") if p.is_file())

    for path in ("releases/r1/", "page/2/", "archive/3/atom.xml", "sitemap.xml"):
        assert isinstance(service.cache.get(path), Ready)
    assert files() == 4
    for round_ in range(5):  # edits: new versions replace old ones on disk
        release(service, "r1.txt", f"Release 1, edit {round_}", "March 1, 2021", age=30 - round_)
        assert service.scan().changes.updated == ["r1"]
        for path in ("releases/r1/", "page/2/", "archive/1/atom.xml", "sitemap.xml"):
            assert isinstance(service.cache.get(path), Ready)
    assert files() == 5  # the four above, and archive page 3, which the edits never touched


def test_changes_made_by_another_process_reach_the_cache(service: Service) -> None:
    """`feedsvc build` (or another instance) changes the store; this service replays the
    change log at its next tick, though its own look at the folder finds nothing new."""
    from feedsvc.ingest import ingest
    from feedsvc.store import Store

    service.start()
    assert service.cache.get(f"releases/{SEED_ID}/") is Missing.NOT_FOUND
    shutil.copy(SEED, service.settings.items.dir / SEED.name)
    other = Store.open(str(service.store.engine.url))
    try:
        ingest(service.settings, other, FixedClock(NOW))
    finally:
        other.close()
    assert service.scan().changes.published == []  # the files were already read by the other
    assert isinstance(service.cache.get(f"releases/{SEED_ID}/"), Ready)
    assert SEED_ID.encode() in service.cache.hot["feed.xml"].body
    # Its own changes are not applied twice: the log says what it already did.
    assert service.follow().published == []


def test_metrics_show_the_shares_and_clicks_the_desk_stored(service: Service) -> None:
    # /metrics asks the desk, which owns the shares (issue 13), not its store.
    shutil.copy(SEED, service.settings.items.dir / SEED.name)
    service.start()
    request = parse(
        {"release": SEED_ID, "to": "friend@example.org", "token": "operator"},
        service.settings.share,
    )
    receipt = service.desk.share_now(request)
    for _ in range(2):  # two click-throughs of one share: the two gauges differ
        assert service.desk.click(receipt.id) == SEED_ID
    assert service.desk.click("no-such-share") is None
    lines = service.metrics.render().decode().splitlines()
    assert "feedsvc_shares_stored 1" in lines
    assert "feedsvc_share_clicks_stored 2" in lines
