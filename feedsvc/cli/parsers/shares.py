"""feedsvc share | stats: their options (bodies in feedsvc.cli.shares)."""

from __future__ import annotations

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option


def add_commands(commands: Commands) -> None:
    share = commands.add_parser("share", help="suggest a release to someone by email")
    config_option(share)
    share.add_argument("release", metavar="RELEASE_ID")
    share.add_argument(
        "--language", metavar="TAG", help="the release in this language of the site (issue 15)"
    )
    share.add_argument("--to", action="append", required=True, metavar="EMAIL")
    share.add_argument("--from-name", help="shown as '<name> via <site title>'")
    share.add_argument("--from-email", help="the Reply-To address")
    share.add_argument("--message", help="a short message, shown as the sender's words")
    share.set_defaults(run=Body("shares", "cmd_share"))

    stats = commands.add_parser("stats", help="shares and click-throughs per release")
    config_option(stats)
    stats.add_argument(
        "--readers", action="store_true", help="who reads the feeds: subscribers per reader"
    )
    stats.add_argument(
        "--alerts", action="store_true", help="email alerts: subscribers, emails, bounces, lists"
    )
    stats.set_defaults(run=Body("shares", "cmd_stats"))
