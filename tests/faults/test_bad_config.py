"""An invalid config.toml stops `feedsvc serve`, `build` and `check` before they start:
exit 2, one line on stderr naming the key (or the line of a TOML syntax error), and
nothing started: no port listening, no var/, no export, no database file or table. A
secret put where it does not belong is refused without being repeated.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedsvc.cli import main
from tests.conftest import SEED, TEST_DATABASE, db_rows, new_database_url
from tests.web.conftest import free_port

SECRET = "hunter2-Sm7p-Passw0rd"
# A Standard Webhooks secret of 32 bytes: its base64 ends in "=", not a variable's name.
PADDED_WHSEC = "whsec_" + base64.b64encode(bytes(range(32))).decode()
# One of 24 bytes (as Svix issues them) is 32 base64 characters with no padding; about a
# third of them hold no "+" or "/" and look like a variable's name.
PLAIN_WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the example in the spec's docs

# name -> (config.toml after [database] and [server], what stderr must name)
CASES = {
    "unknown key": ("[feeds]\nlimt = 5\n", "unknown key feeds.limt"),
    "wrong type": ('[feeds]\nlimit = "50"\n', "feeds.limit must be a whole number"),
    "bad syntax": ("[site]\ntitle = Press Office\n", "config.toml: not valid TOML: "),
    "smtp password": (
        f'[mail]\ntransport = "smtp"\nsmtp_password = "{SECRET}"\n',
        "mail.smtp_password",
    ),
    "padded whsec in secret_env": (
        f'[[webhooks]]\nurl = "https://hooks.invalid/feedsvc"\nsecret_env = "{PADDED_WHSEC}"\n',
        "webhooks.secret_env",
    ),
    "plain whsec in secret_env": (
        f'[[webhooks]]\nurl = "https://hooks.invalid/feedsvc"\nsecret_env = "{PLAIN_WHSEC}"\n',
        "webhooks.secret_env",
    ),
}


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def tables(url: str) -> list[str]:
    rows = db_rows(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return [name for (name,) in rows]


def office(root: Path, url: str, port: int, text: str) -> Path:
    """A service folder: the seed in items/, and config.toml naming its database and port
    before the case's own text."""
    (root / "items").mkdir(parents=True)
    shutil.copy(SEED, root / "items" / SEED.name)
    head = f'[database]\nurl = "{url}"\n[server]\nport = {port}\n'
    (root / "config.toml").write_text(head + text, encoding="utf-8")
    return root


def database_url_in(root: Path, url: str, tmp_path: Path) -> str:
    return url.replace(str(tmp_path), str(root))  # a SQLite file in that folder


def check_refused(command: str, code: int, out: str, err: str, named: str, root: Path) -> None:
    assert code == 2, f"feedsvc {command}: exit {code}\n{out}{err}"
    assert err.startswith("feedsvc: ") and err.count("\n") == 1, (command, err)
    assert named in err, (command, err)
    if "TOML" in named:  # the syntax error's place: the title, under four lines of head
        assert "line 6" in err, err
    assert "Traceback" not in err
    assert all(secret not in err for secret in (SECRET, PADDED_WHSEC, PLAIN_WHSEC)), err
    assert out == ""
    # Nothing made: no var/ (database, secret key, cache), no export.
    assert sorted(p.name for p in root.iterdir()) == ["config.toml", "items"], command


@pytest.mark.parametrize("case", CASES)
def test_an_invalid_config_exits_2_naming_the_key_and_starts_nothing(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text, named = CASES[case]
    port = free_port()
    url = new_database_url(tmp_path)
    # `feedsvc serve` as a process of its own: it must not get as far as listening.
    serving = office(
        tmp_path / "serve", database_url_in(tmp_path / "serve", url, tmp_path), port, text
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", "config.toml"],
        cwd=serving,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # `build` and `check` meanwhile, through the same entry point, in this process.
        for command in ("build", "check"):
            root = office(
                tmp_path / command, database_url_in(tmp_path / command, url, tmp_path), port, text
            )
            code = main([command, "--config", str(root / "config.toml")])
            captured = capsys.readouterr()
            check_refused(command, code, captured.out, captured.err, named, root)
        # A serve that got as far as listening has shown enough: it is stopped there.
        started = False
        deadline = time.monotonic() + 10
        while serve.poll() is None and time.monotonic() < deadline:
            if listening(port):
                started = True
                break
            time.sleep(0.05)
    finally:
        if serve.poll() is None:
            serve.kill()
        out, err = serve.communicate()
    assert not started, f"feedsvc serve listened on {port}:\n{err}"
    check_refused("serve", serve.returncode, out, err, named, serving)
    if TEST_DATABASE == "postgresql":
        assert tables(url) == []
