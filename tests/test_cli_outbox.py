"""`feedsvc outbox` and `feedsvc build` announcing, end to end on real folders."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from feedsvc.cli import main
from feedsvc.config import database_url, load_settings
from feedsvc.model import Outgoing
from feedsvc.store import Store
from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Answer, Receiver, verify
from tests.conftest import db_rows, new_database_url, newsroom_text

SECRET_ENV = "FEEDSVC_TEST_CLI_HOOK_SECRET"


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def office(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "items").mkdir()
    (tmp_path / "config.toml").write_text(
        f"""
[site]
base_url = "https://press.example.org/"
id_authority = "press.example.org"

[database]
url = "{new_database_url(tmp_path)}"

[outbox]
allow_private_targets = true
webhook_timeout_seconds = 2

[websub]
hubs = ["{receiver.url}hub"]

[[webhooks]]
url = "{receiver.url}hook"
secret_env = "{SECRET_ENV}"
"""
    )
    monkeypatch.setenv(SECRET_ENV, new_secret())
    return tmp_path


def run(office: Path, *args: str) -> int:
    return main([*args, "--config", str(office / "config.toml")])


def database(office: Path) -> str:
    return database_url(load_settings(office / "config.toml"))


def store(office: Path) -> Store:
    return Store.open(database(office))


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%B %d, %Y")


def test_build_announces_after_the_export_is_in_place(
    office: Path, receiver: Receiver, capsys
) -> None:
    (office / "items" / "news.txt").write_text(newsroom_text("Big news", today(), ["Text."]))
    assert run(office, "build") == 0
    assert "announced: 7 delivered" in capsys.readouterr().out
    hooks = [r for r in receiver.requests if r.path == "/hook"]
    assert [verify(r, os.environ[SECRET_ENV])["data"]["id"] for r in hooks] == ["news"]
    assert run(office, "build") == 0  # nothing changed: nothing said
    assert len(receiver.requests) == 7


def test_list_show_retry_cancel(office: Path, receiver: Receiver, capsys) -> None:
    receiver.default = Answer(status=500, body=b"down for maintenance")
    (office / "items" / "news.txt").write_text(newsroom_text("Big news", today(), ["Text."]))
    assert run(office, "build") == 0
    out = capsys.readouterr().out
    assert "7 to retry (feedsvc outbox dispatch)" in out

    assert run(office, "outbox") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == "7 pending"
    assert listing[1].split()[:2] == ["id", "status"]
    assert len(listing) == 9 and all("down for maintenance" in line for line in listing[2:])
    assert run(office, "outbox", "list", "--channel", "webhook") == 0
    [_, _, hook_line] = capsys.readouterr().out.splitlines()
    hook_id = int(hook_line.split()[0])

    assert run(office, "outbox", "show", str(hook_id)) == 0
    shown = capsys.readouterr().out
    assert f"delivery {hook_id}: pending, webhook to {receiver.url}hook" in shown
    assert "#1 " in shown and " retry " in shown and "500" in shown
    assert '"type": "release.published"' in shown

    assert run(office, "outbox", "cancel", str(hook_id)) == 0
    assert run(office, "outbox", "cancel", str(hook_id)) == 1  # nothing left to cancel
    assert "is not waiting to be sent" in capsys.readouterr().err
    assert run(office, "outbox", "retry", str(hook_id)) == 0
    assert "1 delivery due again now" in capsys.readouterr().out

    receiver.default = Answer(status=204)
    # The pings wait 5 s before their second attempt; a test does not.
    db_rows(database(office), "UPDATE deliveries SET next_attempt_at = '2000-01-01 00:00:00'")
    assert run(office, "outbox", "dispatch") == 0
    assert "7 claimed: 7 delivered, 0 retry, 0 dead, 0 lost" in capsys.readouterr().out
    assert run(office, "outbox", "show", "999") == 1


def test_retry_all_dead_and_endpoints(office: Path, receiver: Receiver, capsys) -> None:
    s = store(office)
    try:
        url = receiver.url + "hook"
        now = dt.datetime.now(dt.UTC)
        s.outbox.enqueue(
            [Outgoing("webhook", url, {"type": "t", "timestamp": "", "data": {}}, "k")], now
        )
    finally:
        s.close()
    receiver.answer(status=410)
    assert run(office, "outbox", "dispatch") == 1  # a dead delivery: exit 1
    assert "1 dead" in capsys.readouterr().out
    assert run(office, "outbox", "endpoints") == 0
    assert f"{url}  disabled since" in capsys.readouterr().out
    assert run(office, "outbox", "enable", url) == 0
    assert run(office, "outbox", "enable", "https://unknown.example/") == 1
    capsys.readouterr()
    assert run(office, "outbox", "retry", "--all-dead") == 0
    assert "1 delivery due again now" in capsys.readouterr().out
    assert run(office, "outbox", "dispatch") == 0
    assert run(office, "outbox", "endpoints") == 0
    assert f"{url}  ok" in capsys.readouterr().out
    assert run(office, "outbox", "retry") == 2  # neither ids nor --all-dead


def test_webhook_secret_in_config_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "config.toml").write_text(
        '[[webhooks]]\nurl = "https://hooks.example.org/"\nsecret_env = "whsec_abc+def="\n'
    )
    assert main(["outbox", "--config", str(tmp_path / "config.toml")]) == 2
    assert "must name an environment variable" in capsys.readouterr().err


def one_webhook(office: Path, receiver: Receiver) -> int:
    s = store(office)
    try:
        event = {"type": "t", "timestamp": "", "data": {}}
        now = dt.datetime.now(dt.UTC)
        s.outbox.enqueue([Outgoing("webhook", receiver.url + "hook", event, "k")], now)
        [delivery] = s.outbox.list()
    finally:
        s.close()
    return delivery.id


def due_now(office: Path) -> None:
    """The policy's wait before the next attempt, over (a test does not wait 5 s)."""
    db_rows(database(office), "UPDATE deliveries SET next_attempt_at = '2000-01-01 00:00:00'")


def test_retry_makes_a_waiting_delivery_due_now(office: Path, receiver: Receiver, capsys) -> None:
    hook_id = one_webhook(office, receiver)
    receiver.answer(status=500)
    assert run(office, "outbox", "dispatch") == 0
    assert "1 retry" in capsys.readouterr().out
    assert run(office, "outbox", "dispatch") == 0  # its next attempt is seconds away
    assert "0 claimed" in capsys.readouterr().out

    assert run(office, "outbox", "retry", str(hook_id)) == 0
    assert capsys.readouterr().out == "1 delivery due again now\n"
    receiver.answer(status=204)
    assert run(office, "outbox", "dispatch") == 0
    assert "1 claimed: 1 delivered" in capsys.readouterr().out
    assert run(office, "outbox", "show", str(hook_id)) == 0
    shown = capsys.readouterr().out
    assert f"delivery {hook_id}: delivered" in shown and "attempts     2\n" in shown

    # Delivered, or unknown: nothing to retry, and the operator is told which.
    assert run(office, "outbox", "retry", str(hook_id), "999") == 1
    out, err = capsys.readouterr()
    assert out == "0 deliveries due again now\n"
    assert err.splitlines() == [
        f"feedsvc: delivery {hook_id} is delivered: nothing to retry",
        "feedsvc: no delivery 999",
    ]


def test_show_lists_every_attempt_in_time_order(office: Path, receiver: Receiver, capsys) -> None:
    hook_id = one_webhook(office, receiver)
    receiver.default = Answer(status=500, body=b"first round")
    assert run(office, "outbox", "dispatch") == 0
    due_now(office)
    assert run(office, "outbox", "dispatch") == 0
    assert run(office, "outbox", "cancel", str(hook_id)) == 0
    assert run(office, "outbox", "retry", str(hook_id)) == 0  # a fresh round of attempts
    receiver.default = Answer(status=500, body=b"second round")
    assert run(office, "outbox", "dispatch") == 0
    due_now(office)
    assert run(office, "outbox", "dispatch") == 0
    capsys.readouterr()

    assert run(office, "outbox", "show", str(hook_id)) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "  attempts     4 (2 since the last retry by hand)" in shown
    attempts = [line.split() for line in shown if line.startswith("    #")]
    assert [a[0] for a in attempts] == ["#1", "#2", "#3", "#4"]
    assert [a[1] for a in attempts] == sorted(a[1] for a in attempts)
    rounds = [next(w for w in ("first", "second") if w in " ".join(a)) for a in attempts]
    assert rounds == ["first", "first", "second", "second"]


def test_list_has_a_header_aligned_with_its_rows(office: Path, receiver: Receiver, capsys) -> None:
    hook_id = one_webhook(office, receiver)
    receiver.answer(status=500, body=b"down")
    assert run(office, "outbox", "dispatch") == 0
    capsys.readouterr()
    assert run(office, "outbox", "list") == 0
    count, header, row = capsys.readouterr().out.splitlines()
    assert count == "1 pending"
    assert header.split() == [
        *("id", "status", "channel", "attempts", "next/delivered", "target", "last", "error")
    ]
    assert header.index("id") + len("id") == row.index(str(hook_id)) + len(str(hook_id))
    for name, value in (("status", "pending"), ("channel", "webhook"), ("target", "http")):
        assert header.index(name) == row.index(value), name
    attempts_end = header.index("attempts") + len("attempts")
    assert row[:attempts_end].endswith(" 1") and row[attempts_end] == " "
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ ", row[header.index("next/delivered") :])
