"""feedsvc serve | build | check | ... — the composition root: the only place that wires the
parts. One module a command family: site (build, serve, check, scheduled), admin (db,
backup, restore), shares (share, stats), outbox, alerts (subscribers, alerts)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from PIL import Image

from feedsvc.cli import admin, alerts, outbox, preview, shares, site
from feedsvc.cli.common import EXIT_PROBLEMS, EXIT_USAGE, settings_at
from feedsvc.errors import ConfigError, ExportError
from feedsvc.store.schema_version import SchemaError


def main(argv: Sequence[str] | None = None) -> int:
    # Pillow warns past its own 89-megapixel guess at a bomb; feedsvc.media checks
    # items.max_image_pixels from the header before anything is decoded, so in the log the
    # warning would only be noise for a legitimate 90-100 MP photo (issue 14).
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_at(getattr(args, "config", None))
        return int(args.run(args, settings))
    except ConfigError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ExportError, SchemaError) as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsvc", description="Press releases in, RSS, Atom, JSON Feed and pages out."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    site.add_commands(commands)
    admin.add_commands(commands)
    shares.add_commands(commands)
    outbox.add_commands(commands)
    alerts.add_commands(commands)
    preview.add_commands(commands)  # issue 17 item 6
    return parser
