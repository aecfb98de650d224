"""feedsvc db | backup | restore: the database's schema, and the state that cannot be
rebuilt."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

from sqlalchemy import Engine

from feedsvc.backup import BackupError, Report, backup
from feedsvc.cli.common import EXIT_OK, EXIT_PROBLEMS
from feedsvc.clock import SystemClock
from feedsvc.config import Settings, database_url
from feedsvc.restore import restore
from feedsvc.store import connector, schema_version


@contextlib.contextmanager
def _schema_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the database that does not touch its schema (Store.open would): `db
    current` reports the schema as it is, and `db upgrade` upgrades even when
    database.auto_upgrade is off."""
    engine = connector.schema_engine(database_url(settings))
    try:
        yield engine
    finally:
        engine.dispose()


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    with _schema_engine(settings) as engine:
        done = schema_version.upgrade(engine)
    print(f"database schema {done}")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    with _schema_engine(settings) as engine:
        revision = schema_version.current(engine)
    newest = schema_version.head()
    state = "up to date" if revision == newest else "behind: run `feedsvc db upgrade`"
    print(f"{revision or 'no revision'} (newest {newest}; {state})")
    return EXIT_OK if revision == newest else EXIT_PROBLEMS


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    return _tell(lambda: backup(settings, args.dir, SystemClock()))


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    return _tell(lambda: restore(settings, args.dir, force=args.force))


def _tell(run: Callable[[], Report]) -> int:
    try:
        report = run()
    except BackupError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    print("\n".join(report.lines))
    for warning in report.warnings:
        print(f"feedsvc: {warning}", file=sys.stderr)
    return EXIT_OK
