"""First-start memory, guarded: a regression once went unnoticed (x5) because nobody re-ran
the benchmarks. Memory, unlike time, is steady enough to hold in a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SEED, SEED_ID
from tests.web.conftest import CLEAN_EXIT, Server
from tests.web.test_share_live import visible

# `feedsvc serve` with the seed on SQLite measured 79 MiB peak on 2026-12-06 (issue 11);
# the bound leaves room for library updates, not for another copy of a driver.
PEAK_MIB = 110


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.sqlite_only
def test_a_fresh_service_on_sqlite_stays_small(tmp_path: Path) -> None:
    srv = Server(tmp_path / "office")
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda s: visible(s, SEED_ID))
    try:
        for path in ("/", "/feed.xml", f"/releases/{SEED_ID}/", "/api/shares/token"):
            srv.get(path)
        assert srv.proc is not None
        pid = srv.proc.pid
        peak = status_kib(pid, "VmHWM") / 1024
        assert peak <= PEAK_MIB, f"peak RSS {peak:.0f} MiB"
        # The PostgreSQL driver is for PostgreSQL: a SQLite service never loads it.
        assert "psycopg" not in Path(f"/proc/{pid}/maps").read_text()
    finally:
        assert srv.stop() in CLEAN_EXIT
