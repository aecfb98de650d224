"""feedsvc serve | build | check | ... — the composition root: the only place that wires the
parts. One module a command family: site (build, serve, check, scheduled), admin (db,
backup, restore), shares (share, stats), outbox, alerts (subscribers, alerts), preview.

Their options are declared in feedsvc.cli.parsers, which imports nothing heavy, and a
family's module is imported only when one of its commands runs (issue 18 item 2: a second
`feedsvc build` is timed whole, process start included)."""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from collections.abc import Sequence

from feedsvc.cli import parsers
from feedsvc.cli.common import EXIT_PROBLEMS, EXIT_USAGE, settings_at
from feedsvc.errors import ConfigError, ExportError


def main(argv: Sequence[str] | None = None) -> int:
    """The command line's command; `argv` None: this process's own (its exit comes next)."""
    try:
        return _main(argv)
    finally:
        if argv is None:
            # The interpreter's last collection would walk every object the command made,
            # to free memory the exit frees anyway: 0.1 s after a build of 10,000 releases
            # (issue 18 item 2). Frozen, they are left to the exit. Objects are still
            # finalized as the modules are cleared; only cycles are not looked for. Tests
            # pass `argv` and run many commands in one process: nothing is frozen there.
            gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _quiet_bomb_warning()
    try:
        settings = settings_at(getattr(args, "config", None))
        return int(args.run(args, settings))
    except ConfigError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_USAGE
    # An except clause's classes are looked up only when an exception reaches it: the store
    # (and SQLAlchemy) is imported for SchemaError only then, or by a command that opens it.
    except (ExportError, _schema_error()) as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS


def _quiet_bomb_warning() -> None:
    # Pillow warns past its own 89-megapixel guess at a bomb; feedsvc.media checks
    # items.max_image_pixels from the header before anything is decoded, so in the log the
    # warning would only be noise for a legitimate 90-100 MP photo (issue 14). Set once the
    # arguments parsed: `--help` and usage errors need no Pillow (issue 18 item 2).
    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _schema_error() -> type[Exception]:
    from feedsvc.store.schema_version import SchemaError

    return SchemaError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsvc", description="Press releases in, RSS, Atom, JSON Feed and pages out."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers.add_commands(commands)
    return parser
