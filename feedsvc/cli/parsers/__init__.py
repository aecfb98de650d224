"""The commands' names, help and options, for argparse: what `feedsvc --help`, `feedsvc
COMMAND --help` and every usage error need, and nothing a command needs to run (issue 18
item 2). Each family's module declares its commands; cli.body imports a body when it runs."""

from __future__ import annotations

from feedsvc.cli.common import Commands
from feedsvc.cli.parsers import admin, alerts, outbox, preview, shares, site


def add_commands(commands: Commands) -> None:
    site.add_commands(commands)
    admin.add_commands(commands)
    shares.add_commands(commands)
    outbox.add_commands(commands)
    alerts.add_commands(commands)
    preview.add_commands(commands)  # issue 17 item 6
