"""An archive import a small machine survives (issue 12 item 12), guarded.

The first start of `feedsvc serve` on a folder of old releases publishes them all at once.
Announcing that publication once read every release back from the store, bodies and all,
and held them together: 100,000 releases peaked at 1,277 MiB instead of 262, and a press
office importing its archive on a 1 GiB VM would have been killed. Nobody noticed until
the benchmarks were run again; memory, unlike time, is steady enough to hold in a test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import newsroom_text
from tests.web import conftest as live
from tests.web.conftest import CLEAN_EXIT, Server

RELEASES = 20_000
# Measured on 2026-12-06 (2 cores), 20,000 releases of ~4 KiB: the process tree peaked at
# 166 MiB on SQLite and 174 MiB on PostgreSQL when /healthz first answered (the serving
# process's own peak: the reading workers are gone by then), and at 231 / 239 MiB while it
# imported (workers included). Before the fix: 372 and 379 MiB. The bounds leave room for
# library updates and allocator noise, not for an import that holds what it publishes.
PEAK_MIB = 220  # the tree when /healthz answers, as bench/serve.py's memory run reads it
TREE_MIB = 300  # the largest sum over the process and its children during the import
# Issue 18: once serving, after 200 release pages, 50 index pages and the sitemap were
# read (as bench/serve.py's memory run does): 174 MiB here on SQLite on 2026-12-06; with
# SQLite's page cache at 16 MiB a connection (issue 17's, since taken back) 237: every
# pooled connection kept the pages it had read.
WARM_MIB = 200
# Issue 18: a change is rendered in a renderer process of its own, started at the first
# change: the tree after two changes (server, renderer, resource tracker) was 257 MiB here.
# bench/serve.py's memory target for the server is 300 MiB.
CHANGED_MIB = 300
START_SECONDS = 240  # the import comes before /healthz: 15-40 s here, more on a busy CI

SECTIONS = ("Press Releases", "News & Events", "Speeches", "Statements & Remarks", "Briefings")
NAMES = ("Wang Yi", "José Ramírez", "Zoë Müller", "Li Wei (李伟)", "Søren Kierkegård")
PROSE = (
    "the two countries said will continue to strengthen cooperation in trade investment "
    "climate “win-win” security dialogue development & partnership <Q&A> São Tomé café "
    "Genève 北京 ±0.4 mutual respect regional stability exchanged views on issues of common "
    "concern and agreed to deepen practical cooperation in the coming year"
)
WORDS = PROSE.split()


def archive(items: Path, count: int, seed: int = 12) -> None:
    """`count` releases as a press office's archive holds them: the seed's layout, a few
    KiB of text each (non-ASCII, smart quotes, & < >), dated over fifteen years, five
    sections. Dated an hour ago on disk, so the first look takes every file."""
    rng = random.Random(seed)
    first, days = dt.date(2010, 1, 1), 15 * 365
    settled = time.time() - 3600

    def paragraph() -> str:
        sentences = (" ".join(rng.choices(WORDS, k=rng.randint(8, 16))) for _ in range(8))
        return " ".join(s[0].upper() + s[1:] + "." for s in sentences)

    paragraphs = [paragraph() for _ in range(400)]  # drawn from: a few seconds for them all
    for i in range(1, count + 1):
        day = first + dt.timedelta(days=rng.randrange(days))
        title = f"{rng.choice(NAMES)} Meets Counterparts on “{' '.join(rng.sample(WORDS, 3))}”"
        date = f"{day:%B} {day.day}, {day.year}"
        picked = [rng.choice(paragraphs), *rng.sample(paragraphs, rng.randint(4, 6))]
        path = items / f"{day.isoformat()}-release-{i:05d}.txt"
        text = newsroom_text(title, date, picked, rng.choice(SECTIONS))
        path.write_text(text, encoding="utf-8")
        os.utime(path, (settled, settled))


def tree_hwm(root: int) -> float:
    """VmHWM in MiB, summed over `root` and its children (pool workers), from /proc: as
    bench/serve.py's memory run reads it. A child caught between fork and exec is a copy
    of `root` still (its pages are root's, counted already): it counts once it has run."""
    kib, command = 0, Path(f"/proc/{root}/cmdline").read_bytes()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, KeyError):  # gone already, or a kernel thread
            f = dict(re.findall(r"^(Pid|PPid|VmHWM):\s+(\d+)", status.read_text(), re.M))
            ours = f["Pid"] == str(root)
            if ours or (
                f["PPid"] == str(root) and (status.parent / "cmdline").read_bytes() != command
            ):
                kib += int(f["VmHWM"])
    return kib / 1024


def test_an_archive_import_on_first_start_fits_a_small_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "START_TIMEOUT", START_SECONDS)
    srv = Server(tmp_path / "office")
    archive(srv.items, RELEASES)
    largest, starting = 0.0, threading.Event()

    def watch() -> None:  # the whole tree while it imports: workers come and go
        nonlocal largest
        while starting.is_set():
            with contextlib.suppress(OSError):  # it exited at start: srv.start says why
                if (proc := srv.proc) is not None:
                    largest = max(largest, tree_hwm(proc.pid))
            time.sleep(0.05)

    starting.set()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        srv.start()
    finally:
        starting.clear()
        watcher.join()
    try:
        assert srv.proc is not None
        peak = tree_hwm(srv.proc.pid)
        assert f"serving {RELEASES:,} releases" in srv.log(), srv.log()[-2000:]
        assert srv.get("/feed.xml").status_code == 200
        assert peak <= PEAK_MIB, f"peak RSS {peak:.0f} MiB importing {RELEASES:,} releases"
        largest = max(largest, peak)
        assert largest <= TREE_MIB, f"process tree {largest:.0f} MiB during the import"
        warm = warmed_rss(srv)
        assert warm <= WARM_MIB, f"{warm:.0f} MiB once pages of {RELEASES:,} releases were read"
        changed, renderers = after_changes(srv)
        assert renderers == 1, "the renderer process (issue 18) was not running"
        assert changed <= CHANGED_MIB, f"{changed:.0f} MiB with the renderer, after two changes"
    finally:
        assert srv.stop() in CLEAN_EXIT


def warmed_rss(srv: Server) -> float:
    """VmRSS in MiB of the server's tree after reading what a crawler reads first: the
    sitemaps, 200 release pages and 50 index pages, drawn at random."""
    rng = random.Random(5)
    locs = re.findall(r"<loc>([^<]*)</loc>", srv.get("/sitemap.xml").text)
    for part in [u for u in locs if "/sitemaps/" in u]:  # an index past 50,000 URLs
        locs += re.findall(r"<loc>([^<]*)</loc>", srv.get(path_of(part)).text)
    pages = [u for u in locs if "/releases/" in u]
    paths = [path_of(u) for u in rng.sample(pages, 200)]
    paths += [f"/page/{k}/" for k in rng.sample(range(2, RELEASES // 20), 50)]
    assert all(srv.get(path).status_code == 200 for path in paths)
    assert srv.proc is not None
    return tree_rss(srv.proc.pid)[0]


def after_changes(srv: Server) -> tuple[float, int]:
    """VmRSS in MiB of the server's tree once two releases were added, the second after the
    renderer process the first one starts has had time to come up; and how many renderer
    processes (spawned children) the tree holds."""
    today = dt.date.today()
    for n in (1, 2):
        title = f"Change {n} rendered apart"
        text = newsroom_text(title, f"{today:%B} {today.day}, {today.year}", ["A change."])
        srv.write(f"{today.isoformat()}-change-{n}.txt", text)
        deadline = time.monotonic() + 60
        while title not in srv.get("/feed.xml").text:
            assert time.monotonic() < deadline, f"{title!r} never reached /feed.xml"
            time.sleep(0.2)
        time.sleep(8 if n == 1 else 1)  # the renderer's imports, then its render
    assert srv.proc is not None
    return tree_rss(srv.proc.pid)


def tree_rss(root: int) -> tuple[float, int]:
    """VmRSS in MiB summed over `root` and its children, and how many children are spawned
    Python processes (multiprocessing's spawn_main: the renderer)."""
    kib = spawned = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, KeyError):
            f = dict(re.findall(r"^(Pid|PPid|VmRSS):\s+(\d+)", status.read_text(), re.M))
            if root in (int(f["Pid"]), int(f["PPid"])):
                kib += int(f["VmRSS"])
                if int(f["PPid"]) == root:
                    spawned += b"spawn_main" in (status.parent / "cmdline").read_bytes()
    return kib / 1024, spawned


def path_of(url: str) -> str:
    """The path of an absolute URL the sitemaps give (the site is served at its root)."""
    return urlsplit(url).path
