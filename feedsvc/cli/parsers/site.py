"""feedsvc build | serve | check | scheduled: their options (bodies in feedsvc.cli.site)."""

from __future__ import annotations

from pathlib import Path

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option, given_moment


def add_commands(commands: Commands) -> None:
    build = commands.add_parser("build", help="write the site as static files")
    config_option(build)
    build.add_argument("--out", type=Path, help="output folder (default: build.out)")
    build.add_argument(
        "--now",
        type=given_moment,
        help="build as of this moment, e.g. 2026-12-01T09:00+01:00 (previews embargoes)",
    )
    build.add_argument(
        "--jobs", type=int, metavar="N", help="processes to render with (default: one per CPU)"
    )
    build.add_argument(
        "--strict", action="store_true", help="exit 1 when a release file has a problem"
    )
    build.set_defaults(run=Body("site", "cmd_build"))

    serve = commands.add_parser("serve", help="run the service: live feeds and pages over HTTP")
    config_option(serve)
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.set_defaults(run=Body("site", "cmd_serve"))

    check = commands.add_parser("check", help="read every release and report problems")
    config_option(check)
    check.set_defaults(run=Body("site", "cmd_check"))

    scheduled = commands.add_parser(
        "scheduled", help="releases under embargo, and when they go live"
    )
    config_option(scheduled)
    scheduled.set_defaults(run=Body("site", "cmd_scheduled"))
