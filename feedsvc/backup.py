"""`feedsvc backup DIR`: the state that cannot be rebuilt, kept (issue 12 item 9);
`feedsvc restore DIR` (restore.py) puts it back, with the names and helpers defined here.

Losing `var/` silently broke old unsubscribe links (a new key), forgot the suppression list
and the tombstones (410s became 404s), moved `updated` back and sent `release.published`
again. What cannot be rebuilt is the database and the signing key; the render cache is
made again from the database, and the maildir holds messages already handed over.

A backup is a folder: the database (SQLite: a consistent copy made while `feedsvc serve`
writes, with SQLite's online backup API; PostgreSQL: not here, pg_dump saves it), the key,
and `manifest.json` naming each file with its size and SHA-256. It is written in a hidden
folder beside DIR and renamed into place whole, so a backup cut short is never taken for
a good one. It holds personal data and the key: the folder is 0700, its files 0600.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.clock import Clock
from feedsvc.config import SECRET_KEY_ENV, Settings, database_url
from feedsvc.errors import FeedsvcError
from feedsvc.privacy import FILE_MODE, FOLDER_MODE, private_folder
from feedsvc.store import connector

FORMAT = "feedsvc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILE = "feedsvc.db"  # the SQLite database, whatever database.url calls it
KEY_FILE = "secret_key"
PG_DUMP_FILE = "database.pgdump"  # where the advice tells pg_dump to write
# The only files a manifest may name, by role (restore reads no other name).
ROLES = {"database": DATABASE_FILE, "key": KEY_FILE}
Query = Callable[[str], list[Any]]  # runs one SELECT on the copy (or the live PostgreSQL)
CHUNK = 1 << 20
# What the manifest counts, read from the copy itself: the numbers describe the snapshot.
_COUNTS = {
    "releases": "SELECT count(*) FROM releases WHERE withdrawn_at IS NULL",
    "withdrawn": "SELECT count(*) FROM releases WHERE withdrawn_at IS NOT NULL",
    "shares": "SELECT count(*) FROM shares",
    "deliveries": "SELECT count(*) FROM deliveries",
    "suppressions": "SELECT count(*) FROM suppressions",
}
_ONE = {
    "releases": "release",
    "shares": "share",
    "deliveries": "delivery",
    "suppressions": "suppression",
}


class BackupError(FeedsvcError):
    """A backup could not be made, or a backup cannot be restored; names the file."""


@dataclass
class Report:
    """What a backup or restore did, for the operator: `lines` on stdout, `warnings` on
    stderr."""

    manifest: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- backup ------------------------------------------------------------------------------------


def backup(settings: Settings, dest: Path, clock: Clock) -> Report:
    dest = Path(os.path.abspath(dest))
    with os_errors(dest):
        return _backup(settings, dest, clock)


def _backup(settings: Settings, dest: Path, clock: Clock) -> Report:
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise BackupError(f"{dest}: already there; give a new folder (a backup never replaces one)")
    url = database_url(settings)
    kind = database_kind(url)
    private_folder(dest.parent)
    # Beside DIR, so the rename below stays on one filesystem; mkdtemp makes it 0700.
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.incomplete-", dir=dest.parent))
    staging.chmod(FOLDER_MODE)
    try:
        files: list[dict[str, Any]] = []
        if kind == "sqlite":
            database = _snapshot_sqlite(sqlite_path(url), staging / DATABASE_FILE)
            files.append(_entry("database", staging / DATABASE_FILE))
        else:
            database = _describe_postgresql(url)
        key_source = _copy_key(settings, staging / KEY_FILE)
        if key_source == "file":
            files.append(_entry("key", staging / KEY_FILE))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "feedsvc_version": _feedsvc_version(),
            "created": clock.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
            "database": database,
            "key": key_source,
            "files": files,
        }
        _write_private(staging / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
        fsync(staging)
        if dest.exists():
            dest.rmdir()  # empty, checked above; rename(2) would also replace it
        os.rename(staging, dest)
        fsync(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report = Report(manifest)
    report.lines.append(f"backup written to {dest}")
    if kind == "sqlite":
        size = next(f["size"] for f in files if f["role"] == "database")
        report.lines.append(f"  database: {describe(database)}, {size:,} bytes, {DATABASE_FILE}")
    else:
        report.lines += _pg_dump_advice(url, dest)
    report.lines.append(f"  signing key: {_key_line(key_source, settings)}")
    if key_source == "environment":
        report.warnings.append(
            f"the signing key comes from {SECRET_KEY_ENV} and is not in the backup: keep it "
            "with your other secrets (without it, unsubscribe links already sent stop working)"
        )
    return report


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"database.url: cannot back up a {backend} database")
    return backend


def sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("database.url is an in-memory SQLite database: nothing to back up")
    return Path(name)


def _snapshot_sqlite(source: Path, target: Path) -> dict[str, Any]:
    """A consistent copy of a database `feedsvc serve` may be writing: the online backup
    API copies every page in one step, inside one read transaction, and in WAL mode a
    reader does not stop the writer (nor the writer the reader)."""
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"{source}: no database there (database.url): nothing to back up")
    _create_private(target)  # 0600 before SQLite writes a byte into it
    try:
        uri = f"file:{quote(str(source))}?mode=rw"  # rw, not rwc: never make an empty one
        with (
            closing(sqlite3.connect(uri, uri=True, timeout=30)) as src,
            closing(sqlite3.connect(target)) as copy,
        ):
            src.backup(copy)
            # One self-contained file, without -wal and -shm beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"{source}: the database is damaged: {problems[0]}")
            return {
                "kind": "sqlite",
                "schema_revision": _revision(lambda sql: copy.execute(sql).fetchall()),
                "counts": _counts(lambda sql: copy.execute(sql).fetchall()),
            }
    except sqlite3.Error as e:
        raise BackupError(f"{source}: cannot copy the database: {e}") from None
    finally:
        if target.exists():
            fsync(target)


def _describe_postgresql(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    engine = connector.schema_engine(url)
    try:
        with engine.connect() as conn:

            def run(sql: str) -> list[Any]:
                return list(conn.execute(text(sql)))

            revision, counts = _revision(run), _counts(run)
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        raise BackupError(f"database {masked_url(url)}: cannot read it: {reason}") from None
    finally:
        engine.dispose()
    return {
        "kind": "postgresql",
        "name": parsed.database,
        "host": parsed.host,
        "schema_revision": revision,
        "counts": counts,
    }


def _revision(run: Query) -> str | None:
    try:
        rows = run("SELECT version_num FROM alembic_version")
    except (sqlite3.Error, SQLAlchemyError):
        return None  # made before migrations existed (issues 2-5): older than any revision
    return rows[0][0] if rows else None


def _counts(run: Query) -> dict[str, int]:
    return {name: int(run(sql)[0][0]) for name, sql in _COUNTS.items()}


def _copy_key(settings: Settings, target: Path) -> str:
    """Where the signing key comes from: 'environment' (never written anywhere by us),
    'file' (copied), or 'none' (not made yet: the first start makes it)."""
    if os.environ.get(SECRET_KEY_ENV) is not None:
        return "environment"
    path = settings.server.secret_key_file
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return "none"
    except OSError as e:
        raise BackupError(f"{path}: cannot read the signing key: {e.strerror}") from None
    _write_private(target, key)
    return "file"


def _key_line(source: str, settings: Settings) -> str:
    if source == "file":
        return f"{KEY_FILE} (from {settings.server.secret_key_file})"
    if source == "environment":
        return f"not included ({SECRET_KEY_ENV} is set)"
    return f"none yet ({settings.server.secret_key_file} is made at the first start)"


def describe(database: dict[str, Any]) -> str:
    counts = database.get("counts") or {}
    parts = ", ".join(
        f"{n:,} {name if n != 1 else _ONE.get(name, name)}" for name, n in counts.items()
    )
    schema = database.get("schema_revision") or "before migrations"
    return f"{database['kind']}, schema {schema}" + (f"; {parts}" if parts else "")


def masked_url(url: str) -> str:
    """A database URL fit to print: no password, in the user part or the query (a libpq
    URL may carry `?password=`)."""
    parsed = make_url(url)
    parsed = parsed.difference_update_query([k for k in parsed.query if k.lower() == "password"])
    # _replace, not set(): set() takes None as "leave it as it is".
    return parsed._replace(password=None).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The URL as pg_dump and psql read it: no SQLAlchemy driver name, no password."""
    parsed = make_url(masked_url(url)).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _pg_dump_advice(url: str, dest: Path) -> list[str]:
    name = make_url(url).database or "?"
    dump = dest / PG_DUMP_FILE
    return [
        f"  database: PostgreSQL database {name!r} is NOT in the backup; save it with pg_dump:",
        f"    pg_dump --format=custom --file={shlex.quote(str(dump))} "
        f"--dbname={shlex.quote(libpq_url(url))}",
        "  (the password from PGPASSWORD or ~/.pgpass; `feedsvc restore` prints how to load it)",
    ]


# -- files -------------------------------------------------------------------------------------


@contextmanager
def os_errors(where: Path) -> Iterator[None]:
    """A file that cannot be read or written (permissions, a full disk, a name taken by
    another backup at the same moment) is said with its name, not as a traceback."""
    try:
        yield
    except OSError as e:
        raise BackupError(f"{e.filename or where}: {e.strerror or e}") from None


def _entry(role: str, path: Path) -> dict[str, Any]:
    return {"role": role, "name": path.name, "size": path.stat().st_size, "sha256": sha256_of(path)}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync(path: Path) -> None:
    """A file's bytes, or a folder's entries (a rename in it), on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _feedsvc_version() -> str:
    try:
        return version("feedsvc")
    except PackageNotFoundError:
        return "unknown"
