"""feedsvc subscribers | alerts: their steps' options (bodies in feedsvc.cli.alerts)."""

from __future__ import annotations

import argparse
from pathlib import Path

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option, given_moment

# feedsvc.store.subscribers' FREQUENCIES and STATUSES, named here so that declaring the
# options does not import the store (issue 18 item 2); tests/test_cli_imports.py holds
# them equal.
FREQUENCIES = ("immediate", "daily", "weekly")
STATUSES = ("pending", "confirmed", "suspended", "unsubscribed")
_CSV_HELP = "columns email, frequency, sections, language, consent"


def add_commands(commands: Commands) -> None:
    subs = commands.add_parser("subscribers", help="people who get release alerts by email")
    config_option(subs)
    steps = subs.add_subparsers(dest="step", metavar="STEP", required=True)
    listing = steps.add_parser("list", help="subscribers, the oldest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=_positive, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.add_argument("--addresses", action="store_true", help="show whole addresses")
    listing.set_defaults(run=Body("alerts", "cmd_list"))
    add = steps.add_parser("add", help="subscribe an address (a confirmation email is sent)")
    add.add_argument("email")
    _choices(add)
    add.add_argument(
        "--confirmed",
        metavar="BASIS",
        help="confirmed at once, without an email: on what basis they agreed (kept)",
    )
    add.set_defaults(run=Body("alerts", "cmd_add"))
    remove = steps.add_parser("remove", help="unsubscribe an address")
    remove.add_argument("email")
    remove.set_defaults(run=Body("alerts", "cmd_remove"))
    export = steps.add_parser("export", help="all that is kept about an address, as JSON")
    export.add_argument("email")
    export.set_defaults(run=Body("alerts", "cmd_export"))
    erase = steps.add_parser("erase", help="erase all that is kept about an address")
    erase.add_argument("email")
    erase.set_defaults(run=Body("alerts", "cmd_erase"))
    load = steps.add_parser("import", help="subscribers from a CSV file (" + _CSV_HELP + ")")
    load.add_argument("file", type=Path)
    load.add_argument("--confirmed", metavar="BASIS", help="the basis of rows without consent")
    load.set_defaults(run=Body("alerts", "cmd_import"))
    for step in steps.choices.values():
        config_option(step)
    alerts = commands.add_parser("alerts", help="email alerts: digests by hand")
    config_option(alerts)
    jobs = alerts.add_subparsers(dest="step", metavar="STEP", required=True)
    digest = jobs.add_parser("digest", help="queue the digests now due (cron, static sites)")
    config_option(digest)
    digest.add_argument("--frequency", choices=("daily", "weekly"), action="append")
    digest.add_argument("--now", type=given_moment, help="as if it were then (ISO, with zone)")
    digest.set_defaults(run=Body("alerts", "cmd_digest"))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _choices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frequency", choices=FREQUENCIES, default="immediate")
    parser.add_argument("--section", action="append", default=[], metavar="SLUG")
    parser.add_argument("--language", metavar="TAG", help="a language of the site")
