"""SIGKILL in the middle of the work, then a restart: nothing lost, nothing half-written.

- during ingest: `feedsvc serve` importing a folder of 3,000 releases is killed once the
  first batch (ingest.BATCH files a transaction) is committed and the rest is being read;
- during a static export: `feedsvc build` of the first 600 of those releases is killed
  while it writes its staging folder.

During dispatch is covered already: tests/web/test_outbox_live.py kills `feedsvc serve`
in the middle of a webhook batch, tests/outbox/test_crash.py kills `feedsvc outbox
dispatch` in the middle of an SMTP batch (every delivery arrives, only those in flight
twice, with the same id).

A SIGKILL reaches one process: the render and reader processes feedsvc forks or spawns
get no signal, so the tests also look at what became of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy.exc

from tests.conftest import TEST_DATABASE, db_rows, new_database_url, newsroom_text
from tests.faults.live import alive, command_line, descendants
from tests.web.conftest import CLEAN_EXIT, Server, metric, toml_text, wait_for

TOTAL = 3000  # more than ingest.BATCH (2,000): a first import takes two transactions
EXPORTED = 600  # the first of them, for the export: enough to be killed half-way
ORPHAN_GRACE = 1.0  # seconds a killed process's helpers get to notice and exit
MONTHS = ("January", "March", "May", "July", "September", "November")


@dataclass(frozen=True)
class Written:
    id: str
    title: str
    paragraphs: tuple[str, ...]  # the first one after its dateline


def release(n: int) -> Written:
    paragraphs = (
        f"the ministry published statement number {n} on “cooperation” & trade.",
        f"A second paragraph of release {n}, with café, 中文 and <angle brackets>.",
        f"The last words of release {n} are these.",
    )
    return Written(f"r{n:04}", f"Release {n}: Talks in Genève — “Day {n % 7}”", paragraphs)


def corpus_date(n: int) -> str:
    return f"{MONTHS[n % 6]} {1 + n % 28}, {2015 + n % 10}"


def write_corpus(folder: Path, numbers: range) -> dict[str, Written]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for n in numbers:
        r = release(n)
        text = newsroom_text(r.title, corpus_date(n), list(r.paragraphs))
        (folder / f"{r.id}.txt").write_text(text, encoding="utf-8")
        written[r.id] = r
    return written


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Written]]:
    folder = tmp_path_factory.mktemp("corpus") / "items"
    return folder, write_corpus(folder, range(1, TOTAL + 1))


def html_paragraphs(r: Written) -> list[str]:
    """What each paragraph becomes in the body HTML: its text, escaped (the first one
    after its dateline)."""
    return [escape(p, quote=False) for p in r.paragraphs]


def tree(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under `root`."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def kill_all(pids: set[int]) -> None:
    """Clean up processes a test started (by id, each one)."""
    for pid in alive(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def survivors_after(pids: set[int], grace: float) -> dict[int, str]:
    """Those of `pids` still running after `grace` seconds, with their command lines."""
    deadline = time.monotonic() + grace
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {pid: command_line(pid) for pid in alive(pids)}


# -- during ingest ----------------------------------------------------------------------------


def launch(srv: Server) -> subprocess.Popen[bytes]:
    """`feedsvc serve` as Server.start runs it, without waiting for /healthz: the first
    import runs before the service answers."""
    with srv.stdout_path.open("ab") as out, srv.stderr_path.open("ab") as err:
        srv.proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "serve", "--config", str(srv.config)],
            cwd=srv.root,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    return srv.proc


def stored(srv: Server) -> tuple[int, int] | None:
    """(releases stored, releases published), or None while there is no table yet."""
    if TEST_DATABASE == "sqlite" and not (srv.root / "var" / "feedsvc.db").exists():
        return None  # not even created: a look now would create it
    try:
        [(rows, published)] = db_rows(srv.database_url, "SELECT count(*), count(seq) FROM releases")
    except sqlalchemy.exc.SQLAlchemyError:
        return None
    return rows, published


@dataclass
class KilledImport:
    srv: Server
    at_kill: tuple[int, int]  # (stored, published) as the killed service left them
    survivors: dict[int, str]  # the killed service's child processes still running after it
    log_from: int  # where the restarted service's log begins in srv.log()

    def restart_log(self) -> str:
        return self.srv.log()[self.log_from :]


@pytest.fixture(scope="module")
def killed_import(
    tmp_path_factory: pytest.TempPathFactory, corpus: tuple[Path, dict[str, Written]]
) -> Iterator[KilledImport]:
    folder, _ = corpus
    srv = Server(
        tmp_path_factory.mktemp("import") / "office",
        {"items": {"dir": str(folder)}, "share": {"enabled": False}},
    )
    proc = launch(srv)
    children: set[int] = set()

    def first_batch_committed() -> bool:
        assert proc.poll() is None, f"feedsvc serve exited with {proc.returncode}"
        found = stored(srv)
        return found is not None and found[0] > 0

    try:
        # The first batch is committed; the rest is being read, in reader processes.
        wait_for(first_batch_committed, 30, 0.01, "the first batch of the import")
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        srv.proc = None
        survivors = survivors_after(children, ORPHAN_GRACE)
    finally:
        srv.kill()
        kill_all(children)
    at_kill = stored(srv)  # what the killed service had committed
    assert at_kill is not None and at_kill[1] < TOTAL, (
        f"the import ended before the kill: {at_kill}"
    )
    # The killed run's log may end in a reader process's traceback (its parent died).
    log_from = len(srv.log())
    srv.start()  # /healthz answers once the import at start is done
    killed = KilledImport(srv, at_kill, survivors, log_from)
    try:
        yield killed
    finally:
        assert srv.stop(clean_log=False) in CLEAN_EXIT


def test_after_a_sigkill_mid_import_every_release_is_published_once(
    killed_import: KilledImport, corpus: tuple[Path, dict[str, Written]]
) -> None:
    srv, (_, written) = killed_import.srv, corpus
    rows = db_rows(srv.database_url, "SELECT id, seq, withdrawn_at FROM releases ORDER BY seq")
    assert {rid for rid, _, _ in rows} == set(written)
    assert [seq for _, seq, _ in rows] == list(range(1, TOTAL + 1))  # no gap, no repeat
    assert all(withdrawn is None for _, _, withdrawn in rows)
    assert metric(srv.metrics(), "feedsvc_releases_published") == TOTAL
    # The complete history, as a reader paging through the JSON Feed archives sees it.
    seen: list[str] = []
    for n in range(1, TOTAL // 100 + 1):
        feed = srv.get(f"/archive/{n}/feed.json").json()
        for item in feed["items"]:
            rid = item["url"].rstrip("/").rsplit("/", 1)[1]
            seen.append(rid)
            r = written[rid]
            assert item["title"] == r.title
            assert all(p in item["content_html"] for p in html_paragraphs(r)), rid
    assert sorted(seen) == sorted(written)
    assert "Traceback" not in killed_import.restart_log(), killed_import.restart_log()


def test_after_a_sigkill_mid_import_no_release_is_truncated(
    killed_import: KilledImport, corpus: tuple[Path, dict[str, Written]]
) -> None:
    srv, (_, written) = killed_import.srv, corpus
    rows = db_rows(srv.database_url, "SELECT id, title, body_html FROM releases")
    assert len(rows) == TOTAL
    for rid, title, body in rows:
        r = written[rid]
        assert title == r.title, rid
        assert body.count("<p>") == len(r.paragraphs), rid
        assert all(p in body for p in html_paragraphs(r)), rid
    # Pages from both sides of the kill: the first batch's, and the last files read.
    for rid in ("r0001", "r1000", "r2000", "r2001", "r2500", f"r{TOTAL:04}"):
        page = lxml.html.fromstring(srv.body(f"/releases/{rid}/"))
        assert page.findtext(".//h1") == written[rid].title
        text = page.text_content()
        assert all(p in text for p in written[rid].paragraphs), rid


def test_a_sigkilled_service_leaves_no_reader_processes_behind(
    killed_import: KilledImport,
) -> None:
    # The first import reads in a pool of spawned processes; killed, the service cannot
    # stop them, and they must not wait for it for ever.
    assert killed_import.survivors == {}, (
        f"{len(killed_import.survivors)} process(es) of the killed `feedsvc serve` still "
        f"running {ORPHAN_GRACE} s after it died: {killed_import.survivors}"
    )


# -- during a static export -------------------------------------------------------------------


@dataclass
class KilledExport:
    root: Path
    before: dict[str, str]  # the previous export, as it was before the killed build
    after_kill: dict[str, str]  # public/ right after the kill
    staged_files: int  # files the killed build had written into its staging folder
    survivors: dict[int, str]  # its render processes still running after it
    rebuild: subprocess.CompletedProcess[str]
    clean: subprocess.CompletedProcess[str]


def run_build(root: Path, out: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "build", "--config", "config.toml", "--out", out],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def killed_export(tmp_path_factory: pytest.TempPathFactory) -> KilledExport:
    root = tmp_path_factory.mktemp("export")
    write_corpus(root / "items", range(1, EXPORTED + 1))
    tables = {
        "site": {"base_url": "https://press.example.org/", "id_authority": "press.example.org"},
        "database": {"url": new_database_url(root)},
        "share": {"enabled": False},
    }
    (root / "config.toml").write_text(toml_text(tables), encoding="utf-8")
    first = run_build(root, "public")
    assert first.returncode == 0, first.stderr
    before = tree(root / "public")
    # The next build has something new to write: three more releases and an edit.
    write_corpus(root / "items", range(EXPORTED + 1, EXPORTED + 4))
    edited = root / "items" / "r0007.txt"
    edited.write_text(edited.read_text().replace("Release 7:", "Release 7 (corrected):"))

    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "build", "--config", "config.toml", "--out", "public"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: set[int] = set()

    def writing() -> bool:
        assert proc.poll() is None, "the build ended before the kill: nothing was tested"
        staged = list(root.glob(".public.new-*/releases"))
        return bool(staged) and sum(1 for _ in staged[0].iterdir()) >= 100

    try:
        wait_for(writing, 60, 0.01, "the build writing its staging folder")
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after_kill = tree(root / "public")
        survivors = survivors_after(children, ORPHAN_GRACE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        kill_all(children)  # so the rebuild below does not race them
    staged = [p for p in root.glob(".public.new-*") if p.is_dir()]
    staged_files = sum(1 for s in staged for p in s.rglob("*") if p.is_file())
    rebuild = run_build(root, "public")
    clean = run_build(root, "clean")  # the same store again, into a folder of its own
    return KilledExport(root, before, after_kill, staged_files, survivors, rebuild, clean)


def test_a_build_killed_mid_write_leaves_the_previous_export_untouched(
    killed_export: KilledExport,
) -> None:
    assert killed_export.staged_files > 0, "killed before writing: nothing was tested"
    assert killed_export.after_kill == killed_export.before


def test_after_a_killed_build_the_next_one_is_complete(killed_export: KilledExport) -> None:
    root = killed_export.root
    assert killed_export.rebuild.returncode == 0, killed_export.rebuild.stderr
    assert killed_export.clean.returncode == 0, killed_export.clean.stderr
    public = tree(root / "public")
    assert public == tree(root / "clean")  # byte for byte what a clean build writes
    for n in range(EXPORTED + 1, EXPORTED + 4):
        assert f"releases/r{n:04}/index.html" in public
    page = lxml.html.fromstring((root / "public/releases/r0007/index.html").read_bytes())
    assert page.findtext(".//h1").startswith("Release 7 (corrected):")
    # The killed build's staging folder is gone; nothing half-written is left beside.
    assert sorted(p.name for p in root.iterdir() if "public" in p.name) == ["public"]


def test_a_killed_build_leaves_no_render_processes_behind(killed_export: KilledExport) -> None:
    # `kill -9` of the build reaches its main process only: the render processes it
    # forked must notice and exit, not render on into a folder nobody will swap in and
    # then wait for ever for work.
    assert killed_export.survivors == {}, (
        f"{len(killed_export.survivors)} render process(es) of the killed `feedsvc build` "
        f"still running {ORPHAN_GRACE} s after it died: {killed_export.survivors}"
    )
