"""`feedsvc subscribers` and `feedsvc alerts digest`, and `feedsvc stats --alerts`, end to
end on a real store (SQLite on disk, or PostgreSQL in that run) (issue 16)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedsvc.cli import main
from feedsvc.config import database_url, load_settings
from feedsvc.sharing.keys import Signer, address_hash
from feedsvc.store import Store
from tests.conftest import db_rows, new_database_url

KEY = "k" * 48


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "items").mkdir()
    (tmp_path / "config.toml").write_text(
        f"""
[site]
base_url = "https://press.example.org/"
id_authority = "press.example.org"
timezone = "Europe/Paris"

[database]
url = "{new_database_url(tmp_path)}"

[languages.zh]
title = "新闻办公室"
"""
    )
    monkeypatch.setenv("FEEDSVC_SECRET_KEY", KEY)
    return tmp_path


def run(office: Path, *args: str) -> int:
    return main([*args, "--config", str(office / "config.toml")])


def url(office: Path) -> str:
    return database_url(load_settings(office / "config.toml"))


def rows(office: Path, sql: str, **params: object) -> list[tuple]:
    return db_rows(url(office), sql, **params)


def hashed(address: str) -> str:
    return address_hash(Signer(KEY.encode()), address)


def subscriber(office: Path, address: str) -> dict | None:
    with Store.open(url(office)) as store:
        return store.subscribers.export(hashed(address))


def every_value(office: Path) -> str:
    """Every stored value of the tables that could name a person, as one text."""
    tables = ("subscribers", "deliveries", "delivery_attempts", "subscription_requests")
    return repr([rows(office, f"SELECT * FROM {table}") for table in tables])


# -- add, list, remove ---------------------------------------------------------------


def test_add_queues_a_confirmation_and_names_nobody_in_the_outbox(office: Path, capsys) -> None:
    assert run(office, "subscribers", "add", "Ann@Example.org", "--frequency", "daily") == 0
    assert "pending; a confirmation email is queued" in capsys.readouterr().out
    kept = subscriber(office, "ann@example.org")
    assert kept is not None and (kept["status"], kept["frequency"]) == ("pending", "daily")
    assert kept["consent_network"] == "operator"
    [(channel, target, payload)] = rows(office, "SELECT channel, target, payload FROM deliveries")
    assert (channel, target, json.loads(payload)) == ("alert", kept["id"], {"kind": "confirm"})
    # Asked again: the form's limits do not hold the operator back; still one subscriber.
    assert run(office, "subscribers", "add", "ann@example.org", "--frequency", "daily") == 0
    assert len(rows(office, "SELECT id FROM subscribers")) == 1
    assert len(rows(office, "SELECT id FROM deliveries")) == 2


def test_add_confirmed_records_the_operators_basis_and_sends_nothing(office: Path, capsys) -> None:
    args = ["subscribers", "add", "bo@example.org", "--section", "health", "--language", "zh"]
    assert run(office, *args, "--confirmed", "signed form, press day 2026-11-30") == 0
    assert "confirmed (no email sent)" in capsys.readouterr().out
    kept = subscriber(office, "bo@example.org")
    assert kept is not None
    assert (kept["status"], kept["consent_basis"]) == ("confirmed", "operator-confirmed")
    assert kept["consent_note"] == "signed form, press day 2026-11-30"
    assert (kept["sections"], kept["language"], kept["frequency"]) == (
        ["health"],
        "zh",
        "immediate",
    )
    assert kept["consent_at"] is not None
    assert rows(office, "SELECT id FROM deliveries") == []
    assert run(office, *args, "--confirmed", "again") == 0
    assert "confirmed already: left as it is" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["ann@example.org\r\nBcc: victim@example.net"], "EMAIL"),
        (["not-an-address"], "EMAIL"),
        (["ann@example.org", "--language", "xx"], "--language"),
        (["ann@example.org", "--section", "Health News"], "--section"),
        (["ann@example.org", "--confirmed", "x" * 501], "--confirmed"),
        (["ann@example.org", "--confirmed", "  "], "--confirmed"),
    ],
)
def test_add_refuses_bad_input_naming_it(office: Path, capsys, args: list[str], named: str) -> None:
    assert run(office, "subscribers", "add", *args) == 2
    assert named in capsys.readouterr().err
    assert subscriber(office, "ann@example.org") is None


def test_list_masks_addresses_unless_asked(office: Path, capsys) -> None:
    run(office, "subscribers", "add", "carla@example.org", "--confirmed", "phone call")
    run(office, "subscribers", "add", "dirk@example.org")
    capsys.readouterr()
    assert run(office, "subscribers", "list") == 0
    out = capsys.readouterr().out
    assert "c…@example.org" in out and "d…@example.org" in out
    assert "carla@" not in out and "dirk@" not in out
    assert run(office, "subscribers", "list", "--addresses", "--status", "confirmed") == 0
    out = capsys.readouterr().out
    assert "carla@example.org" in out and "dirk" not in out
    assert run(office, "subscribers", "list", "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["address"] for s in listed] == ["c…@example.org", "d…@example.org"]


def test_remove_unsubscribes_and_forgets_the_address(office: Path, capsys) -> None:
    run(office, "subscribers", "add", "eve@example.org", "--confirmed", "phone call")
    assert run(office, "subscribers", "remove", "EVE@example.org") == 0
    assert "unsubscribed" in capsys.readouterr().out
    kept = subscriber(office, "eve@example.org")
    assert kept is not None and (kept["status"], kept["address"]) == ("unsubscribed", None)
    assert run(office, "subscribers", "remove", "nobody@example.org") == 1
    assert "no subscriber has that address" in capsys.readouterr().err


# -- a person's data ---------------------------------------------------------------------


def test_export_then_erase_leaves_nothing(office: Path, capsys) -> None:
    run(office, "subscribers", "add", "fay@example.org")  # pending, a confirmation queued
    run(office, "subscribers", "add", "gil@example.org", "--confirmed", "phone call")
    fay = subscriber(office, "fay@example.org")
    assert fay is not None
    capsys.readouterr()
    assert run(office, "subscribers", "export", "fay@example.org") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["address"] == "fay@example.org" and exported["id"] == fay["id"]
    assert exported["consent_network"] == "operator"
    assert [e["about"] for e in exported["emails"]] == [{"kind": "confirm"}]
    assert exported["emails"][0]["status"] == "pending"

    assert run(office, "subscribers", "erase", "fay@example.org") == 0
    assert "erased: the subscriber and 1 alert email naming them (1 pending" in (
        capsys.readouterr().out
    )
    stored = every_value(office)
    assert "fay@example.org" not in stored and fay["id"] not in stored
    assert hashed("fay@example.org") not in stored
    assert "gil@example.org" in stored  # the others are kept
    assert run(office, "subscribers", "export", "fay@example.org") == 1
    assert "nothing is kept" in capsys.readouterr().err


# -- import ------------------------------------------------------------------------------

GOOD_AND_BAD = """email,frequency,sections,language,consent
hal@example.org,daily,health news,,2025-03-01T10:00:00+01:00
ida@example.org,,,zh,yes
jon@example.org,weekly,,,
not-an-address,daily,,,yes
kim@example.org,hourly,,,yes
lea@example.org,daily,,xx,yes
max@example.org,daily,,,2999-01-01
ned@example.org,daily,,,yesterday
oli@example.org,daily
HAL@example.org,weekly,,,yes
"""


def test_import_reports_bad_rows_by_line_and_imports_the_others(
    office: Path, capsys, tmp_path: Path
) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text(GOOD_AND_BAD)
    assert run(office, "subscribers", "import", str(csv)) == 1
    captured = capsys.readouterr()
    problems = captured.err.splitlines()
    lines = [p.split(":")[2] for p in problems]
    assert lines == ["4", "5", "6", "7", "8", "9", "10"], problems
    assert "no consent" in problems[0] and "not an email address" in problems[1]
    assert "hourly" in problems[2] and "not a language" in problems[3]
    assert "future" in problems[4] and "yesterday" in problems[5] and "columns" in problems[6]
    assert all(p.startswith(f"feedsvc: {csv}:") for p in problems)
    assert "2 imported, 1 already there (left as they are), 7 refused" in captured.out
    hal = subscriber(office, "hal@example.org")
    assert hal is not None
    assert (hal["status"], hal["frequency"], hal["sections"]) == (
        "confirmed",
        "daily",
        ["health", "news"],
    )
    assert (hal["consent_basis"], hal["consent_at"]) == (
        "import-consent-column",
        "2025-03-01T09:00:00+00:00",
    )
    ida = subscriber(office, "ida@example.org")
    assert ida is not None and ida["language"] == "zh"
    assert subscriber(office, "jon@example.org") is None
    assert rows(office, "SELECT id FROM deliveries") == []  # nobody is mailed by an import


def test_import_with_a_basis_takes_rows_without_consent_and_is_idempotent(
    office: Path, capsys, tmp_path: Path
) -> None:
    run(office, "subscribers", "add", "pia@example.org", "--confirmed", "phone call")
    run(office, "subscribers", "remove", "pia@example.org")  # she left: an import keeps it so
    csv = tmp_path / "list.csv"
    csv.write_text("email\njon@example.org\npia@example.org\n")
    args = ["subscribers", "import", str(csv), "--confirmed", "members' register"]
    capsys.readouterr()
    assert run(office, *args) == 0
    assert "1 imported, 1 already there" in capsys.readouterr().out
    jon = subscriber(office, "jon@example.org")
    assert jon is not None
    assert (jon["consent_basis"], jon["consent_note"]) == (
        "operator-confirmed",
        "members' register",
    )
    pia = subscriber(office, "pia@example.org")
    assert pia is not None and pia["status"] == "unsubscribed"
    assert run(office, *args) == 0
    assert "0 imported, 2 already there" in capsys.readouterr().out
    assert len(rows(office, "SELECT id FROM subscribers")) == 2


def test_import_refuses_a_file_without_an_email_column(
    office: Path, capsys, tmp_path: Path
) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text("mail,consent\nq@example.org,yes\n")
    assert run(office, "subscribers", "import", str(csv)) == 2
    assert f"{csv}:1: no 'email' column" in capsys.readouterr().err


def test_import_of_ten_thousand_rows(office: Path, capsys, tmp_path: Path) -> None:
    csv = tmp_path / "big.csv"
    body = "".join(f"reader{i}@example.org,daily,,,yes\n" for i in range(10_000))
    csv.write_text("email,frequency,sections,language,consent\n" + body)
    assert run(office, "subscribers", "import", str(csv)) == 0
    assert "10000 imported" in capsys.readouterr().out
    assert rows(office, "SELECT count(*) FROM subscribers") == [(10_000,)]


# -- stats and digests ---------------------------------------------------------------------


def test_stats_alerts_counts_subscribers_emails_bounces_and_lists(office: Path, capsys) -> None:
    run(office, "subscribers", "add", "ria@example.org", "--confirmed", "x", "--frequency", "daily")
    run(office, "subscribers", "add", "sam@example.org", "--section", "health")
    run(office, "subscribers", "add", "tom@example.org", "--confirmed", "x")
    run(office, "subscribers", "remove", "tom@example.org")
    with Store.open(url(office)) as store:
        ria = store.subscribers.export(hashed("ria@example.org"))
        assert ria is not None
        store.subscribers.record_bounce(ria["id"], False, 1, 5, dt.datetime.now(dt.UTC))
    capsys.readouterr()
    assert run(office, "stats", "--alerts") == 0
    out = capsys.readouterr().out.splitlines()
    daily = next(line for line in out if line.startswith("daily")).split()
    assert daily == ["daily", "0", "1", "0", "0", "1"]
    immediate = next(line for line in out if line.startswith("immediate")).split()
    assert immediate == ["immediate", "1", "0", "0", "1", "2"]
    assert "bounces: 0 hard, 1 soft" in out
    confirm = next(line for line in out if line.startswith("confirm")).split()
    assert confirm == ["confirm", "1", "0", "0", "0", "0"]
    assert any(line.split()[:2] == ["(site)", "health"] for line in out)
    everything = next(line for line in out if line.startswith("(site)") and "(all)" in line)
    assert everything.split()[2:4] == ["1", "1"]  # ria confirmed, tom left


def test_alerts_digest_by_hand_queues_a_period_once(office: Path, capsys) -> None:
    from feedsvc.clock import FixedClock
    from feedsvc.ingest import ingest
    from feedsvc.service import announcing
    from tests.conftest import newsroom_text

    run(office, "subscribers", "add", "uma@example.org", "--confirmed", "x", "--frequency", "daily")
    settings = load_settings(office / "config.toml")
    # Published an hour after uma confirmed (the real clock's now): a digest holds what was
    # published since its subscriber confirmed. Dates fixed in the test stopped matching
    # once the real clock passed them.
    paris = ZoneInfo("Europe/Paris")
    published = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(hours=1)
    local = published.astimezone(paris)
    dateline = f"{local:%B} {local.day}, {local.year}"
    (office / "items" / "news.txt").write_text(newsroom_text("News", dateline, ["Text."]))
    with Store.open(url(office)) as store:
        announcing(store, settings)
        ingest(settings, store, FixedClock(published))
    capsys.readouterr()
    # The first 08:00 in Paris after it: that day's digest is due.
    day = local.date() if local.time() < dt.time(8) else local.date() + dt.timedelta(days=1)
    due = dt.datetime.combine(day, dt.time(8), tzinfo=paris).astimezone(dt.UTC)
    later = (due + dt.timedelta(minutes=30)).isoformat()
    assert run(office, "alerts", "digest", "--frequency", "daily", "--now", later) == 0
    assert (
        f"daily digests for {day} (up to {due:%Y-%m-%d %H:%M}Z): 1 queued"
        in capsys.readouterr().out
    )
    digests = rows(office, "SELECT payload FROM deliveries WHERE payload LIKE '%digest%'")
    assert [json.loads(p)["frequency"] for (p,) in digests] == ["daily"]
    again = (due + dt.timedelta(hours=2)).isoformat()
    assert run(office, "alerts", "digest", "--frequency", "daily", "--now", again) == 0
    assert "queued before: nothing done" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # argparse: --now without a time zone
        run(office, "alerts", "digest", "--now", "2026-12-08T09:00")
    assert refused.value.code == 2 and "give a time zone" in capsys.readouterr().err
