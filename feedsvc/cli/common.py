"""What every command family shares: exit codes, the --config option, and how moments,
paths and read problems are shown to the person typing."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parsers import this module: it stays light (issue 18 item 2)
    from feedsvc.config import Settings
    from feedsvc.model import ReadProblem

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

# What add_subparsers returns (argparse names the class privately).
Commands = argparse._SubParsersAction


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,  # given before or after a sub-command, either counts
        help="config file (default: ./config.toml if present, else built-in defaults)",
    )


def settings_at(path: Path | None) -> Settings:
    from feedsvc.config import load_settings

    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    return load_settings(path)


def given_moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}+00:00")
    return value


def shown(settings: Settings, problem: ReadProblem) -> str:
    """A problem with its path as the person typing the command would open it."""
    path = settings.items.dir / problem.path
    rel = os.path.relpath(path)
    return f"{path if rel.startswith('..') else rel}:{problem.line}: {problem.message}"


def local_time(moment: dt.datetime, settings: Settings) -> str:
    """A moment as the press office reads it, e.g. 2026-12-07 10:21 +08:00 (Asia/Shanghai)."""
    local = moment.astimezone(settings.site.tz)
    return f"{local:%Y-%m-%d %H:%M} {local.isoformat()[-6:]} ({settings.site.timezone})"


def display(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
