"""What a command's process imports (issue 18 item 2: a second `feedsvc build` is timed
whole, process start included): a build on a current schema imports neither Alembic nor
the other command families, and the parsers behind `--help` import nothing heavy."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.cli import _parser, main
from feedsvc.cli.body import Body
from feedsvc.cli.parsers import alerts as alert_options
from feedsvc.store import Store, subscribers
from tests.conftest import SEED, new_database_url

FAMILIES = ("admin", "alerts", "outbox", "preview", "shares", "site")
# What a build has no use for when the schema is current.
NOT_FOR_A_BUILD = (
    "alembic",
    "mako",
    "feedsvc.backup",
    "feedsvc.restore",
    "feedsvc.cli.admin",
    "feedsvc.cli.alerts",
    "feedsvc.cli.outbox",
    "feedsvc.cli.preview",
    "feedsvc.cli.shares",
    "feedsvc.alerts.roster",
    "feedsvc.service",  # `announcing` is feedsvc.announce's
    "email_validator",
    # Issue 18, third session: the parsers of the files that changed only (the seed is
    # plain text, without front matter).
    "markdown_it",
    "yaml",
)
# Nor has argparse, for `--help` and usage errors.
NOT_FOR_THE_PARSER = (
    *NOT_FOR_A_BUILD,
    "sqlalchemy",
    "PIL",
    "feedsvc.config",
    "feedsvc.store",
    "feedsvc.cli.site",
)

# Runs the CLI as `python -m feedsvc` would, then says which of the named modules it loaded.
LOADED = """
import json, sys
from feedsvc.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as e:  # --help, usage errors
    code = e.code
print(json.dumps([m for m in json.loads(sys.argv[1]) if m in sys.modules]))
sys.exit(code)
"""


def loaded(modules: tuple[str, ...], *argv: str, cwd: Path) -> tuple[list[str], str]:
    """The modules among `modules` that `feedsvc ARGV...` imported, and what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, json.dumps(modules), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *said, last = done.stdout.splitlines()
    return json.loads(last), "\n".join(said)


def test_a_build_on_a_current_schema_imports_no_alembic_nor_other_commands(
    tmp_path: Path,
) -> None:
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    url = new_database_url(tmp_path)
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{url}"\n')
    Store.open(url).close()  # created and stamped at the newest revision
    found, said = loaded(NOT_FOR_A_BUILD, "build", "--jobs", "1", cwd=tmp_path)
    assert said.startswith("1 release published")
    assert found == []


def test_the_parser_imports_nothing_heavy(tmp_path: Path) -> None:
    found, said = loaded(NOT_FOR_THE_PARSER, "build", "--help", cwd=tmp_path)
    assert said.startswith("usage: feedsvc build")
    assert found == []


def bodies(parser: argparse.ArgumentParser) -> Iterator[Body]:
    run = parser.get_default("run")
    if run is not None:
        yield run
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from bodies(sub)


def test_every_command_names_a_body_its_family_has() -> None:
    named = {(body.module, body.__name__) for body in bodies(_parser())}
    for module, name in named:
        assert callable(getattr(importlib.import_module(module), name)), (module, name)
    # ...and every body of a family is some command's.
    defined = {
        (f"feedsvc.cli.{family}", name)
        for family in FAMILIES
        for name, _ in inspect.getmembers(importlib.import_module(f"feedsvc.cli.{family}"))
        if name.startswith("cmd_")
    }
    assert defined == named


def test_the_subscriber_options_offer_the_stores_choices() -> None:
    assert alert_options.FREQUENCIES == subscribers.FREQUENCIES
    assert alert_options.STATUSES == subscribers.STATUSES


def test_a_schema_behind_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SchemaError is looked up only when an exception reaches main (no store import
    before): still one line and exit 1, no traceback."""
    url = new_database_url(tmp_path)
    (tmp_path / "var").mkdir(exist_ok=True)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\nauto_upgrade = false\n')
    assert main(["scheduled", "--config", str(config)]) == 1
    said = capsys.readouterr().err
    assert said.startswith("feedsvc: the database schema is at no revision, this feedsvc needs")
    assert said.count("\n") == 1


FROZEN = """
import gc, sys
from feedsvc.cli import main
sys.argv = ["feedsvc", *sys.argv[1:]]
code = main()
print(gc.get_freeze_count())
sys.exit(code)
"""


def test_the_process_command_leaves_its_objects_to_the_exit_and_a_test_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18: `feedsvc build` freezes what it made (no last collection walks it on the
    way out); main() called with arguments, as tests do many times a process, does not."""
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    url = new_database_url(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    done = subprocess.run(
        [sys.executable, "-c", FROZEN, "build", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.splitlines()[-1]) > 10_000
    import gc

    before = gc.get_freeze_count()
    assert main(["build", "--config", str(config)]) == 0
    assert gc.get_freeze_count() == before
