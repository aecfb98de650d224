"""`feedsvc build` and `feedsvc check`, end to end on real folders."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import gzip
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from feedsvc.cli import main
from tests.conftest import REPO, SEED, SEED_ID, SEED_TITLE, new_database_url, newsroom_text

CONFIG = """
[site]
base_url = "https://press.example.org/"
id_authority = "press.example.org"
timezone = "Asia/Shanghai"
"""


@pytest.fixture
def office(tmp_path: Path) -> Path:
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    (tmp_path / "config.toml").write_text(with_database(new_database_url(tmp_path)))
    return tmp_path


def with_database(url: str) -> str:
    return f'{CONFIG}\n[database]\nurl = "{url}"\n'


def run(office: Path, *args: str) -> int:
    return main([args[0], "--config", str(office / "config.toml"), *args[1:]])


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_console_script_builds_the_seed(office: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "build", "--config", "config.toml"],
        cwd=office,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 release published (1 added, 1 newly published); wrote ")
    assert done.stderr == ""  # no progress bar when not on a terminal
    feed = feedparser.parse((office / "public" / "feed.xml").read_bytes())
    assert feed.entries[0].title == SEED_TITLE
    page = office / "public" / "releases" / SEED_ID / "index.html"
    assert SEED_TITLE.encode() in page.read_bytes()


def test_two_builds_are_byte_identical(office: Path) -> None:
    assert run(office, "build", "--out", str(office / "one")) == 0
    fresh = with_database(new_database_url(office, "fresh"))
    (office / "config.toml").write_text(fresh)  # even from a fresh store
    assert run(office, "build", "--out", str(office / "two"), "--jobs", "1") == 0
    one, two = tree(office / "one"), tree(office / "two")
    assert one.keys() == two.keys()
    assert [k for k in one if one[k] != two[k]] == []


def test_feeds_have_precompressed_siblings(office: Path) -> None:
    assert run(office, "build") == 0
    public = office / "public"
    for name in ("feed.xml", "atom.xml", "feed.json", "sitemap.xml", "archive/1/atom.xml"):
        assert gzip.decompress((public / f"{name}.gz").read_bytes()) == (public / name).read_bytes()
    assert not (public / "index.html.gz").exists()


def test_broken_files_are_reported_and_the_rest_still_publish(
    office: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(office)
    items = office / "items"
    (items / "empty.txt").write_bytes(b"")
    (items / "binary.txt").write_bytes(b"Home > News\n\x89PNG\r\n\x1a\n\x00\xff")
    (items / "late.txt").write_text(newsroom_text("Late", "April 1, 2021", ["the ministry said."]))
    assert run(office, "build") == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "items/binary.txt:2: not UTF-8 text (byte 0x89 at offset 12)",
        "items/empty.txt:1: empty file: expected a release",
    ]
    assert "2 releases published" in out and "2 file(s) with problems" in out
    assert (office / "public" / "releases" / "late" / "index.html").is_file()
    assert run(office, "build", "--strict") == 1


def test_check_reports_one_line_per_problem(office: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(office)
    assert run(office, "check") == 0
    assert capsys.readouterr().out == "1 release read, no problems in items\n"
    (office / "items" / "nodate.md").write_text('+++\ntitle = "x"\nsection = "S"\n+++\nNo date.\n')
    (office / "items" / "bad-date.txt").write_text(
        newsroom_text("Bad", "February 30, 2021", ["x."])
    )
    assert run(office, "check") == 1
    assert capsys.readouterr().out.splitlines() == [
        "items/bad-date.txt:5: impossible date 'February 30, 2021': day is out of range for month",
        "items/nodate.md:5: no date: expected a dateline at the start of the first "
        "paragraph (e.g. 'On September 11, 2020, ...') or 'date' in front matter",
    ]


def test_invalid_config_names_the_key_and_exits_2(office: Path, capsys) -> None:
    (office / "config.toml").write_text('[site]\ntimezone = "Mars/Olympus"\n')
    assert run(office, "build") == 2
    assert capsys.readouterr().err == ("feedsvc: site.timezone: unknown time zone 'Mars/Olympus'\n")
    (office / "config.toml").write_text("[feeds]\nlimt = 5\n")
    assert run(office, "check") == 2
    assert "unknown key feeds.limt" in capsys.readouterr().err
    assert not (office / "public").exists()


def test_embargoed_release_is_nowhere_until_its_time(office: Path) -> None:
    (office / "items" / "soon.md").write_text(
        '+++\ntitle = "Embargoed news"\ndate = 2030-01-01T10:00:00+08:00\nsection = "S"\n'
        "publish_at = 2030-01-01T10:00:00+08:00\n+++\nSecret until then.\n"
    )
    assert run(office, "build") == 0
    everything = b"".join(tree(office / "public").values())
    assert b"Embargoed news" not in everything and b"soon" not in everything
    assert run(office, "build", "--now", "2030-01-01T10:00:00+08:00") == 0
    assert (office / "public" / "releases" / "soon" / "index.html").is_file()
    assert b"Embargoed news" in (office / "public" / "feed.xml").read_bytes()
    # The preview left the real store alone: the release is still under embargo.
    assert run(office, "build") == 0
    assert b"Embargoed news" not in (office / "public" / "feed.xml").read_bytes()
    assert not (office / "public" / "releases" / "soon").exists()


def test_failed_build_leaves_the_previous_export(office: Path, monkeypatch, capsys) -> None:
    assert run(office, "build") == 0
    before = tree(office / "public")
    (office / "items" / "new.txt").write_text(newsroom_text("New", "May 1, 2021", ["x."]))

    from feedsvc.publishing import site

    def explode(self, stored):
        raise OSError(28, "No space left on device", "releases/new/index.html")

    monkeypatch.setattr(site.Site, "release_page", explode)
    assert run(office, "build", "--jobs", "1") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert tree(office / "public") == before
    assert [p.name for p in office.iterdir() if p.name.startswith(".public")] == []


def test_unwritable_output_is_a_clear_error(office: Path, capsys) -> None:
    # A file where the output's folder should be: fails for root too (chmod would not).
    (office / "blocker").write_text("not a folder")
    assert run(office, "build", "--out", str(office / "blocker" / "public")) == 1
    err = capsys.readouterr().err
    assert err == (
        f"feedsvc: cannot write the export to {office / 'blocker' / 'public'}: "
        f"{office / 'blocker'} is not a folder\n"
    )


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "README.md" in ci
    assert "pytest" in readme and "feedsvc" in readme


def test_stats_count_no_email_to_a_suppressed_address(office: Path, capsys) -> None:
    from feedsvc.config import database_url, load_settings
    from feedsvc.sharing.keys import Signer, address_hash, load_key
    from feedsvc.store import Store
    from feedsvc.store.shares import ShareStore

    assert run(office, "build") == 0
    settings = load_settings(office / "config.toml")
    store = Store.open(database_url(settings))
    try:
        gone = address_hash(Signer(load_key(settings)), "gone@example.org")
        ShareStore(store.engine).suppress(gone, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    share = ["share", SEED_ID, "--to", "friend@example.org", "--to", "gone@example.org"]
    assert run(office, *share) == 0
    capsys.readouterr()
    assert run(office, "stats") == 0
    head, row, total = capsys.readouterr().out.splitlines()
    assert head.split() == ["release", "shares", "emails", "clicks"]
    assert row.split() == [SEED_ID, "1", "1", "0"]  # one email queued, not two
    assert total.split() == ["all", "1", "1", "0"]


def test_check_names_each_release_under_embargo(office: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(office)
    for name, moment in (("later", "2031-03-01T08:00:00Z"), ("soon", "2030-01-01T10:00:00+08:00")):
        (office / "items" / f"{name}.md").write_text(
            f'+++\ntitle = "News {name}"\ndate = {moment}\nsection = "S"\n'
            f"publish_at = {moment}\n+++\nSecret until then.\n"
        )
    assert run(office, "check") == 0
    assert capsys.readouterr().out.splitlines() == [
        "scheduled: soon at 2030-01-01 10:00 +08:00 (Asia/Shanghai)",
        "scheduled: later at 2031-03-01 16:00 +08:00 (Asia/Shanghai)",
        "3 releases read, no problems in items",
    ]


def test_share_names_the_release_in_a_language_of_the_site(office: Path, capsys) -> None:
    """Issue 15: `feedsvc share --language zh` shares the Chinese version (its email in
    Chinese); a language the site lacks is a usage error naming the option."""
    config = office / "config.toml"
    config.write_text(config.read_text() + '\n[languages.zh]\ntitle = "外交部新闻发布"\n')
    (office / "items" / f"{SEED_ID}.zh.md").write_text(
        "---\ntitle: 王毅：中俄是动荡国际形势中的稳定力量\nsection: 外交部新闻\n"
        "date: 2020-09-11T10:00:00+08:00\n---\n2020年9月11日，王毅在莫斯科会见记者。\n",
        encoding="utf-8",
    )
    assert run(office, "build") == 0
    capsys.readouterr()
    assert run(office, "share", SEED_ID, "--language", "fr", "--to", "a@example.org") == 2
    assert "--language: 'fr' is not a language of the site" in capsys.readouterr().err
    assert run(office, "share", SEED_ID, "--language", "ZH", "--to", "friend@example.org") == 0
    assert run(office, "outbox", "dispatch") == 0
    [mail] = (office / "var" / "mail" / "new").iterdir()
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert "王毅：中俄是动荡国际形势中的稳定力量" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None and "阅读全文：https://press.example.org/s/" in body.get_content()


def test_a_build_collects_no_cycles_while_it_reads_and_plans(office: Path, monkeypatch) -> None:
    """Issue 18: `feedsvc build` pauses the cyclic collector in its own process for the
    reading and the build (workers.py), and turns it back on after, failed or not; its
    render workers, forked meanwhile, collect their own."""
    import gc
    from concurrent.futures import ProcessPoolExecutor

    from feedsvc import build
    from feedsvc.publishing.export import ExportStats

    seen: dict[str, bool] = {}
    real = build.build_site

    def watched(*args, **kwargs) -> ExportStats:
        seen["build"] = gc.isenabled()
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "build_site", watched)
    assert gc.isenabled()
    assert run(office, "build", "--jobs", "2") == 0
    assert seen == {"build": False}
    assert gc.isenabled()

    def explode(*args, **kwargs) -> ExportStats:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build, "build_site", explode)
    with pytest.raises(OSError, match="No space left"):
        run(office, "build")
    assert gc.isenabled()

    from feedsvc.workers import collections_paused, start_worker

    context = multiprocessing.get_context("fork")
    frozen_before = gc.get_freeze_count()  # another test's service may have frozen some
    with collections_paused():
        with ProcessPoolExecutor(
            1, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
        ) as pool:
            assert pool.submit(gc.isenabled).result() is True
            # What the parent held at the fork is frozen: the child's collections leave
            # those pages shared.
            assert pool.submit(gc.get_freeze_count).result() > 0
        assert not gc.isenabled()
    assert gc.isenabled()
    if frozen_before == 0:
        assert gc.get_freeze_count() == 0  # unfrozen with the pause's end
