"""Releases under embargo, as the operator sees them: `feedsvc scheduled` and the log of
`feedsvc serve` (issue 12)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.cli import main
from feedsvc.clock import FixedClock
from feedsvc.config import settings_from_dict
from feedsvc.service import Service
from tests.conftest import BASE_URL, SEED, SEED_ID, new_database_url

CONFIG = """
[site]
base_url = "https://press.example.org/"
id_authority = "press.example.org"
timezone = "Asia/Shanghai"
"""


def embargoed(title: str, at: str) -> str:
    return (
        f'+++\ntitle = "{title}"\ndate = {at}\nsection = "S"\npublish_at = {at}\n+++\n'
        "Secret until then.\n"
    )


@pytest.fixture
def office(tmp_path: Path) -> Path:
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    database = f'\n[database]\nurl = "{new_database_url(tmp_path)}"\n'
    (tmp_path / "config.toml").write_text(CONFIG + database)
    return tmp_path


def scheduled(office: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "scheduled", "--config", "config.toml"],
        cwd=office,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_scheduled_lists_what_goes_live_when_oldest_first(office: Path) -> None:
    items = office / "items"
    (items / "later.md").write_text(embargoed("Later news", "2031-03-01T08:00:00Z"))
    (items / "soon.md").write_text(embargoed("Soon news", "2030-01-01T10:00:00+08:00"))
    assert main(["build", "--config", str(office / "config.toml")]) == 0
    done = scheduled(office)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{'goes live':<39}  release  title",
        "2030-01-01 10:00 +08:00 (Asia/Shanghai)  soon     Soon news",
        "2031-03-01 16:00 +08:00 (Asia/Shanghai)  later    Later news",
    ]
    assert SEED_ID not in done.stdout  # published already


def test_build_names_what_it_accepted_under_embargo(office: Path, capsys) -> None:
    (office / "items" / "soon.md").write_text(embargoed("Soon news", "2030-01-01T10:00:00+08:00"))
    assert main(["build", "--config", str(office / "config.toml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "1 release published (2 added, 1 newly published)" in out[0]
    assert "; 1 scheduled" in out[0]
    assert "scheduled: soon at 2030-01-01 10:00 +08:00 (Asia/Shanghai)" in out


def test_scheduled_says_when_nothing_is(office: Path) -> None:
    assert main(["build", "--config", str(office / "config.toml")]) == 0
    done = scheduled(office)
    assert (done.returncode, done.stdout, done.stderr) == (0, "nothing scheduled\n", "")


NOW = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = settings_from_dict(
        {
            "site": {"base_url": BASE_URL, "timezone": "Asia/Singapore"},
            "items": {"dir": "items", "settle_seconds": 1.0},
            "database": {"url": new_database_url(tmp_path)},
        },
        root=tmp_path,
    )
    (tmp_path / "items").mkdir()
    svc = Service(settings, FixedClock(NOW))
    yield svc
    svc.close()


def settled(path: Path, text: str) -> None:
    path.write_text(text)
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))


def test_the_log_names_a_release_accepted_under_embargo(service: Service, caplog) -> None:
    items = service.settings.items.dir
    settled(items / "soon.md", embargoed("Soon", "2026-12-07T02:21:00Z"))
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        service.start()
    lines = [r.getMessage() for r in caplog.records]
    assert "published 0, updated 0, withdrawn 0, scheduled 1" in lines
    assert "scheduled: soon at 2026-12-07 10:21 +08:00 (Asia/Singapore)" in lines

    caplog.clear()
    settled(items / "soon.md", embargoed("Soon, later", "2026-12-08T02:21:00Z"))
    settled(items / "now.md", embargoed("Now", "2026-12-01T00:00:00Z"))
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        service.scan()
    lines = [r.getMessage() for r in caplog.records]
    assert "published 1, updated 1, withdrawn 0, scheduled 1" in lines
    assert "scheduled: soon at 2026-12-08 10:21 +08:00 (Asia/Singapore)" in lines
    assert not [line for line in lines if line.startswith("scheduled: now")]
