"""feedsvc preview: its options (the body in feedsvc.cli.preview)."""

from __future__ import annotations

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option, given_moment


def add_commands(commands: Commands) -> None:
    preview = commands.add_parser(
        "preview",
        help="a signed link to an embargoed release's page (revoke RELEASE_ID; list)",
        description="Print a signed link to an embargoed release's preview page, valid until "
        "the embargo lifts or --until; --to emails it. `preview revoke RELEASE_ID` kills "
        "every link of the release; `preview list` shows the releases under embargo.",
    )
    config_option(preview)
    preview.add_argument("words", nargs="+", metavar="RELEASE_ID | revoke RELEASE_ID | list")
    preview.add_argument("--language", metavar="TAG", help="the release in this language")
    preview.add_argument("--until", type=given_moment, metavar="ISO", help="end the link sooner")
    preview.add_argument("--to", action="append", default=[], metavar="EMAIL")
    preview.set_defaults(run=Body("preview", "cmd_preview"))
