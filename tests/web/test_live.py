"""The live service observed over HTTP: releases dropped, edited, deleted, half-written, turned
bad and under embargo, on a real `feedsvc serve` that rescans every second and watches the
folder. The scenarios share one server, each with its own releases."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import SEED, SEED_ID, newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server, build, exported_documents, metric, wait_for

ATOM = "{http://www.w3.org/2005/Atom}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
CONFIG = {"feeds": {"archive_page_size": 2}, "pages": {"per_page": 2}}


@dataclass(frozen=True)
class Item:
    title: str
    guid: str
    published: str
    content: str


def feed_items(feed: bytes) -> dict[str, Item]:
    """RSS items by release id (the last segment of their link)."""
    items = {}
    for item in etree.fromstring(feed).iterfind("channel/item"):
        rid = item.findtext("link").rstrip("/").rsplit("/", 1)[1]
        items[rid] = Item(
            item.findtext("title"),
            item.findtext("guid"),
            item.findtext("pubDate"),
            item.findtext(CONTENT) or "",
        )
    return items


def items_now(server: Server) -> dict[str, Item]:
    return feed_items(server.body("/feed.xml"))


def release(title: str, date: str, *paragraphs: str, section: str = "Press Releases") -> str:
    paras = list(paragraphs) or ["the ministry said things of note.", "A second paragraph."]
    return newsroom_text(title, date, paras, section)


def embargoed(rid: str, title: str, publish_at: dt.datetime) -> str:
    return (
        "+++\n"
        f'id = "{rid}"\n'
        f'title = "{title}"\n'
        'section = "Statements"\n'
        "date = 2021-03-05T10:00:00+08:00\n"
        f"publish_at = {publish_at.isoformat()}\n"
        "+++\n\n"
        "The budget grows by **two percent**.\n"
    )


def whole_seconds_from_now(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(math.ceil(time.time()) + seconds, dt.UTC)


def published(server: Server, rid: str, timeout: float = 5) -> Item:
    return wait_for(lambda: items_now(server).get(rid), timeout, what=f"{rid} in /feed.xml")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("live"), CONFIG)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda srv: published(srv, SEED_ID))
    yield srv
    assert srv.stop() in CLEAN_EXIT


# -- drop, edit, delete ------------------------------------------------------------------------


def test_a_dropped_release_is_in_the_feed_within_5_s(server: Server) -> None:
    rid, title = "2021-03-10-dropped", "A Release Dropped Into the Folder"
    started = time.monotonic()
    server.write(f"{rid}.txt", release(title, "March 10, 2021"))
    item = published(server, rid)
    assert time.monotonic() - started < 5
    assert item.title == title
    assert item.guid == f"tag:press.example.org,2021-03-10:release:{rid}"
    page = server.get(f"/releases/{rid}/")
    assert page.status_code == 200
    assert f"<h1>{title}</h1>".encode() in page.content


def test_an_edit_changes_the_title_and_keeps_the_guid(server: Server) -> None:
    rid = "2021-03-11-edited"
    old, new = "Minister Meets Delegation", "Minister Receives the Trade Delegation"
    server.write(f"{rid}.txt", release(old, "March 11, 2021"))
    before = published(server, rid)
    server.write(f"{rid}.txt", release(new, "March 11, 2021"))
    after = wait_for(
        lambda: (item := items_now(server).get(rid)) and item.title == new and item,
        timeout=5,
        what="the new title in /feed.xml",
    )
    assert after.guid == before.guid
    assert after.published == before.published
    feed = server.body("/feed.xml")
    assert old.encode() not in feed
    assert feed.count(after.guid.encode()) == 1
    page = server.body(f"/releases/{rid}/")
    assert f"<h1>{new}</h1>".encode() in page
    assert old.encode() not in page


def test_a_deleted_release_is_withdrawn_410_and_tombstoned(server: Server) -> None:
    rid, title = "2021-03-12-withdrawn", "A Release That Will Be Withdrawn"
    path = server.write(f"{rid}.txt", release(title, "March 12, 2021"))
    guid = published(server, rid).guid
    assert server.get(f"/releases/{rid}/").status_code == 200
    path.unlink()
    wait_for(lambda: rid not in items_now(server), timeout=5, what="gone from /feed.xml")
    page = server.get(f"/releases/{rid}/")
    assert page.status_code == 410
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.content.startswith(b"<!DOCTYPE html>")
    atom = etree.fromstring(server.body("/atom.xml"))
    assert [e.get("ref") for e in atom.iterfind(TOMBSTONE)] == [guid]
    assert guid not in [e.findtext(f"{ATOM}id") for e in atom.iterfind(f"{ATOM}entry")]
    assert f"/releases/{rid}/".encode() not in server.body("/sitemap.xml")
    assert f"/releases/{rid}/".encode() not in server.body("/feed.json")


# -- a file still being written ------------------------------------------------------------------


def test_a_half_written_file_is_never_published_truncated(server: Server) -> None:
    rid = "2021-03-01-half-written"
    final_sentence = "The statement ends with this final sentence."
    text = release(
        "Statement Written Slowly",
        "March 1, 2021",
        "the ministry issued a statement on the outcome of the talks held in Geneva "
        "between the two delegations over three days.",
        "Both sides agreed to meet again in the spring, and to exchange experts before then.",
        "The talks covered trade, the environment, culture and the exchange of students.",
        final_sentence,
    ).encode()
    head = text.index(b"the minis") + len(b"the minis")
    assert text[:head].endswith(b"On March 1, 2021, the minis")
    rest = text[head:]
    steps = 10
    chunks = [rest[i * len(rest) // steps : (i + 1) * len(rest) // steps] for i in range(steps)]

    seen_truncated: list[str] = []
    stop = threading.Event()

    def watch() -> None:  # look at the feed and the page all the time the file is written
        with requests.Session() as http:
            headers = {"Accept-Encoding": "identity"}
            while not stop.is_set():
                feed = http.get(server.base + "/feed.xml", headers=headers, timeout=5).content
                item = feed_items(feed).get(rid)
                if item is not None and final_sentence not in item.content:
                    seen_truncated.append(item.content)
                page = http.get(server.base + f"/releases/{rid}/", headers=headers, timeout=5)
                if page.status_code == 200 and final_sentence.encode() not in page.content:
                    seen_truncated.append(page.text)
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        path = server.items / f"{rid}.txt"
        path.write_bytes(text[:head])
        last = time.monotonic()
        gaps = []
        for chunk in chunks:
            time.sleep(0.15)  # each step well within settle_seconds (0.3)
            with path.open("ab") as f:
                f.write(chunk)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        assert path.read_bytes() == text
        assert max(gaps) < 0.3, f"the writer was too slow to test settling: {gaps}"
        item = wait_for(
            lambda: (found := items_now(server).get(rid)) and final_sentence in found.content,
            timeout=5,
            what="the whole release in /feed.xml",
        )
        assert item
    finally:
        stop.set()
        watcher.join()
    assert seen_truncated == []


# -- a file that turns bad -----------------------------------------------------------------------


def _wait_for_scans(server: Server, n: int) -> None:
    runs = metric(server.metrics(), "feedsvc_job_runs_total", job="scan")
    wait_for(
        lambda: metric(server.metrics(), "feedsvc_job_runs_total", job="scan") >= runs + n,
        timeout=n + 3,
        what=f"{n} more scans",
    )


def test_a_file_that_turns_bad_keeps_its_last_good_version_and_is_logged_once(
    server: Server,
) -> None:
    rid, title = "2021-03-20-turns-bad", "A Release Whose File Turns Bad"
    name = f"{rid}.txt"
    server.write(name, release(title, "March 20, 2021"))
    published(server, rid)
    errors = metric(server.metrics(), "feedsvc_read_errors_total")

    def logged() -> list[str]:
        return [line for line in server.log().splitlines() if name in line]

    assert logged() == []
    server.write(name, b"Home > Press Releases\n\xff\xfe not UTF-8 \x00\n")
    wait_for(
        lambda: metric(server.metrics(), "feedsvc_read_errors_total") == errors + 1,
        timeout=5,
        what="the bad file read",
    )
    _wait_for_scans(server, 2)
    assert len(logged()) == 1, logged()
    assert metric(server.metrics(), "feedsvc_read_errors_total") == errors + 1
    assert metric(server.metrics(), "feedsvc_release_files_with_problems") == 1
    assert items_now(server)[rid].title == title
    assert title.encode() in server.body(f"/releases/{rid}/")

    # Another bad version is another change: reported once more.
    server.write(name, b"\xff\xff\xff")
    wait_for(lambda: len(logged()) == 2, timeout=5, what="the second bad version logged")
    _wait_for_scans(server, 1)
    assert len(logged()) == 2, logged()
    assert items_now(server)[rid].title == title

    # Repaired: the new version publishes and nothing is left to report.
    server.write(name, release(title + " (Repaired)", "March 20, 2021"))
    wait_for(
        lambda: items_now(server)[rid].title == title + " (Repaired)", timeout=5, what="repair"
    )
    assert metric(server.metrics(), "feedsvc_release_files_with_problems") == 0


# -- embargo ---------------------------------------------------------------------------------


def test_an_embargoed_release_is_invisible_until_due_then_visible_within_1_s(
    server: Server,
) -> None:
    rid, title = "embargoed-statement", "Embargoed Statement on the Budget"
    url = f"/releases/{rid}/".encode()
    publish_at = whole_seconds_from_now(3)
    due = publish_at.timestamp()
    server.write("embargoed.md", embargoed(rid, title, publish_at))
    # A release written after it: once that one shows, the embargoed file has been read.
    server.write("2021-03-05-companion.txt", release("Companion Release", "March 5, 2021"))
    published(server, "2021-03-05-companion")
    assert metric(server.metrics(), "feedsvc_release_files_with_problems") == 0

    for path in ("/feed.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/", "/page/2/"):
        assert url not in server.body(path), path
        assert title.encode() not in server.body(path), path
    assert server.get(f"/releases/{rid}/").status_code == 404
    assert time.time() < due, "too slow to see the release before its embargo"

    first_seen = None
    deadline = due + 5
    while time.time() < deadline:
        feed = server.body("/feed.xml")
        answered = time.time()
        if url in feed:
            first_seen = answered
            break
        time.sleep(0.05)
    assert first_seen is not None, "never published"
    assert first_seen >= due, "published before its embargo"
    assert first_seen - due <= 1.0
    assert items_now(server)[rid].title == title
    assert server.get(f"/releases/{rid}/").status_code == 200
    assert url in server.body("/sitemap.xml")


def test_an_edited_embargo_is_rearmed_earlier_and_later(server: Server) -> None:
    """The date trigger follows publish_at when an edit moves it: sooner publishes sooner,
    later must not leak at the old time."""
    sooner, later = "embargo-moved-sooner", "embargo-moved-later"
    old_sooner, old_later = whole_seconds_from_now(30), whole_seconds_from_now(3)
    server.write("sooner.md", embargoed(sooner, "Moved Sooner", old_sooner))
    server.write("later.md", embargoed(later, "Moved Later", old_later))
    server.write("2021-03-07-companion.txt", release("Companion Three", "March 7, 2021"))
    published(server, "2021-03-07-companion")
    new_sooner, new_later = old_later, whole_seconds_from_now(60)
    server.write("sooner.md", embargoed(sooner, "Moved Sooner", new_sooner))
    server.write("later.md", embargoed(later, "Moved Later", new_later))
    server.write("2021-03-08-companion.txt", release("Companion Four", "March 8, 2021"))
    published(server, "2021-03-08-companion")
    due = new_sooner.timestamp()
    assert time.time() < due, "too slow to edit the embargoes before they fall due"

    first_seen = None
    while time.time() < due + 1.2:  # past the later one's old time, too
        items = items_now(server)
        answered = time.time()
        assert later not in items, "published at its old embargo"
        if first_seen is None and sooner in items:
            first_seen = answered
        time.sleep(0.05)
    assert first_seen is not None, "not published at its new, sooner time"
    assert due <= first_seen <= due + 1.0
    assert server.get(f"/releases/{later}/").status_code == 404


# -- the same bytes as `feedsvc build`, after all these changes ------------------------------------


def test_after_changes_every_exported_document_is_served_with_the_same_bytes(
    server: Server, tmp_path: Path
) -> None:
    # Changes that move archive pages (2 releases each) and index pages (2 a page).
    for n in (1, 2, 3):
        server.write(f"2021-04-0{n}-late.txt", release(f"Late Release {n}", f"April {n}, 2021"))
    for n in (1, 2, 3):
        published(server, f"2021-04-0{n}-late")
    server.write("2021-04-02-late.txt", release("Late Release 2, Revised", "April 2, 2021"))
    (server.items / "2021-04-03-late.txt").unlink()
    wait_for(
        lambda: (
            (items := items_now(server))
            and "2021-04-03-late" not in items
            and items["2021-04-02-late"].title == "Late Release 2, Revised"
        ),
        timeout=5,
        what="the edit and the withdrawal",
    )
    out = tmp_path / "export"
    build(server, out)
    docs = exported_documents(out)
    assert "/archive/2/feed.xml" in docs
    assert "/page/2/" in docs
    differing = []
    for url, body in docs.items():
        r = server.get(url)
        if r.status_code != 200 or r.content != body:
            differing.append((url, r.status_code))
    assert differing == []


# -- stopping and starting -------------------------------------------------------------------


def test_an_embargo_that_fell_due_while_down_is_published_at_start(tmp_path: Path) -> None:
    srv = Server(tmp_path / "office", CONFIG)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start()
    try:
        published(srv, SEED_ID)
        # One the service stored under embargo before it went down...
        stored_at = whole_seconds_from_now(2)
        srv.write("stored.md", embargoed("stored-under-embargo", "Stored Earlier", stored_at))
        srv.write("2021-03-06-companion.txt", release("Companion", "March 6, 2021"))
        published(srv, "2021-03-06-companion")
        assert "stored-under-embargo" not in items_now(srv)
        assert srv.stop() in CLEAN_EXIT
        assert time.time() < stored_at.timestamp(), "too slow to stop before the embargo"
        # ...and one written while it was down, due before it comes back.
        written_at = whole_seconds_from_now(1)
        srv.write("written.md", embargoed("written-while-down", "Written While Down", written_at))
        time.sleep(max(stored_at.timestamp(), written_at.timestamp()) - time.time() + 0.1)
        srv.start()
        items = items_now(srv)  # the first look after start: no waiting
        assert items["stored-under-embargo"].title == "Stored Earlier"
        assert items["written-while-down"].title == "Written While Down"
        for rid in ("stored-under-embargo", "written-while-down"):
            assert srv.get(f"/releases/{rid}/").status_code == 200
            assert f"/releases/{rid}/".encode() in srv.body("/sitemap.xml")
    finally:
        if srv.proc is not None:
            assert srv.stop() in CLEAN_EXIT


def _seed_server(root: Path) -> Server:
    srv = Server(root, CONFIG)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda srv: published(srv, SEED_ID))
    return srv


def test_a_failing_scan_is_logged_and_counted_and_the_service_goes_on(tmp_path: Path) -> None:
    srv = _seed_server(tmp_path)
    try:
        away = srv.root / "items-away"
        srv.items.rename(away)  # the folder is gone (an unmounted share, say): scans fail
        wait_for(
            lambda: metric(srv.metrics(), "feedsvc_job_failures_total", job="scan") >= 1,
            timeout=4,
            what="a failed scan counted",
        )
        assert srv.get("/healthz").status_code == 200
        assert items_now(srv)[SEED_ID]  # a folder that cannot be read withdraws nothing
        assert srv.get(f"/releases/{SEED_ID}/").status_code == 200
        assert "job scan failed" in srv.log()
        away.rename(srv.items)
        rid = "2021-03-09-after-the-failure"
        srv.write(f"{rid}.txt", release("After the Failure", "March 9, 2021"))
        published(srv, rid)
        failures = metric(srv.metrics(), "feedsvc_job_failures_total", job="scan")
        _wait_for_scans(srv, 1)
        assert metric(srv.metrics(), "feedsvc_job_failures_total", job="scan") == failures
    finally:
        assert srv.stop(clean_log=False) in CLEAN_EXIT


def test_sigterm_exits_0(tmp_path: Path) -> None:
    srv = _seed_server(tmp_path)
    assert srv.stop(signal.SIGTERM) == 0


def test_sigint_exits_0_without_a_traceback(tmp_path: Path) -> None:
    srv = _seed_server(tmp_path)
    try:
        rc = srv.stop(signal.SIGINT)
    finally:
        srv.kill()
    assert rc == 0


def test_no_job_failed(server: Server) -> None:
    samples = server.metrics()
    assert metric(samples, "feedsvc_job_runs_total", job="scan") > 0
    assert metric(samples, "feedsvc_job_failures_total", job="scan") == 0
    assert metric(samples, "feedsvc_job_runs_total", job="embargo") >= 1
    assert metric(samples, "feedsvc_job_failures_total", job="embargo") == 0
    assert "Traceback" not in server.log()
    assert os.path.getsize(server.stderr_path) > 0
