"""feedsvc db | backup | restore: their options (bodies in feedsvc.cli.admin)."""

from __future__ import annotations

from pathlib import Path

from feedsvc.cli.body import Body
from feedsvc.cli.common import Commands, config_option


def add_commands(commands: Commands) -> None:
    db = commands.add_parser("db", help="the database schema (Alembic migrations)")
    config_option(db)
    db_steps = db.add_subparsers(dest="step", metavar="STEP", required=True)
    upgrade = db_steps.add_parser("upgrade", help="bring the schema up to date")
    config_option(upgrade)
    upgrade.set_defaults(run=Body("admin", "cmd_db_upgrade"))
    current = db_steps.add_parser("current", help="the schema's revision, and the newest")
    config_option(current)
    current.set_defaults(run=Body("admin", "cmd_db_current"))

    saving = commands.add_parser(
        "backup", help="copy the database and the signing key into a new folder, online"
    )
    config_option(saving)
    saving.add_argument("dir", type=Path, metavar="DIR")
    saving.set_defaults(run=Body("admin", "cmd_backup"))
    putting_back = commands.add_parser("restore", help="put a backup made by `backup` in place")
    config_option(putting_back)
    putting_back.add_argument("dir", type=Path, metavar="DIR")
    putting_back.add_argument(
        "--force", action="store_true", help="replace an existing database and key"
    )
    putting_back.set_defaults(run=Body("admin", "cmd_restore"))
