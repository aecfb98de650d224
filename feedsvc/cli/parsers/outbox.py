"""feedsvc outbox: its steps' options (bodies in feedsvc.cli.outbox)."""

from __future__ import annotations

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option
from feedsvc.model import CHANNELS, STATUSES


def add_commands(commands: Commands) -> None:
    outbox = commands.add_parser(
        "outbox", help="see and steer outbound deliveries (email, webhooks, WebSub)"
    )
    config_option(outbox)
    listing_body = Body("outbox", "cmd_outbox_list")
    outbox.set_defaults(run=listing_body, status=None, channel=None, limit=50)
    steps = outbox.add_subparsers(dest="step", metavar="STEP")
    listing = steps.add_parser("list", help="the newest deliveries (the default)")
    config_option(listing)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--channel", choices=CHANNELS)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=listing_body)
    show = steps.add_parser("show", help="one delivery, with its attempts")
    config_option(show)
    show.add_argument("id", type=int)
    show.set_defaults(run=Body("outbox", "cmd_outbox_show"))
    retry = steps.add_parser("retry", help="make dead, cancelled or waiting deliveries due now")
    config_option(retry)
    retry.add_argument("ids", type=int, nargs="*", metavar="ID")
    retry.add_argument("--all-dead", action="store_true", help="every dead delivery")
    retry.set_defaults(run=Body("outbox", "cmd_outbox_retry"))
    cancel = steps.add_parser("cancel", help="never send a delivery")
    config_option(cancel)
    cancel.add_argument("ids", type=int, nargs="+", metavar="ID")
    cancel.set_defaults(run=Body("outbox", "cmd_outbox_cancel"))
    dispatch = steps.add_parser("dispatch", help="send what is due now, once, and report")
    config_option(dispatch)
    dispatch.set_defaults(run=Body("outbox", "cmd_outbox_dispatch"))
    endpoints = steps.add_parser("endpoints", help="webhook endpoints that fail or are disabled")
    config_option(endpoints)
    endpoints.set_defaults(run=Body("outbox", "cmd_outbox_endpoints"))
    enable = steps.add_parser("enable", help="send to a disabled webhook endpoint again")
    config_option(enable)
    enable.add_argument("url")
    enable.set_defaults(run=Body("outbox", "cmd_outbox_enable"))
