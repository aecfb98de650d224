"""`feedsvc backup DIR` and `feedsvc restore DIR`: the state that cannot be rebuilt, kept
and put back (issue 12 item 9).

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
import re
import secrets
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

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.clock import Clock
from feedsvc.config import SECRET_KEY_ENV, Settings, database_url
from feedsvc.errors import FeedsvcError
from feedsvc.privacy import FILE_MODE, FOLDER_MODE, private_folder
from feedsvc.sharing.keys import KEY_MIN_BYTES
from feedsvc.store import schema_version

FORMAT = "feedsvc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILE = "feedsvc.db"  # the SQLite database, whatever database.url calls it
KEY_FILE = "secret_key"
PG_DUMP_FILE = "database.pgdump"  # where the advice tells pg_dump to write
_ROLES = {"database": DATABASE_FILE, "key": KEY_FILE}
Query = Callable[[str], list[Any]]  # runs one SELECT on the copy (or the live PostgreSQL)
_CHUNK = 1 << 20
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
    with _os_errors(dest):
        return _backup(settings, dest, clock)


def _backup(settings: Settings, dest: Path, clock: Clock) -> Report:
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise BackupError(f"{dest}: already there; give a new folder (a backup never replaces one)")
    url = database_url(settings)
    kind = _kind(url)
    private_folder(dest.parent)
    # Beside DIR, so the rename below stays on one filesystem; mkdtemp makes it 0700.
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.incomplete-", dir=dest.parent))
    staging.chmod(FOLDER_MODE)
    try:
        files: list[dict[str, Any]] = []
        if kind == "sqlite":
            database = _snapshot_sqlite(_sqlite_path(url), staging / DATABASE_FILE)
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
        _fsync(staging)
        if dest.exists():
            dest.rmdir()  # empty, checked above; rename(2) would also replace it
        os.rename(staging, dest)
        _fsync(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report = Report(manifest)
    report.lines.append(f"backup written to {dest}")
    if kind == "sqlite":
        size = next(f["size"] for f in files if f["role"] == "database")
        report.lines.append(f"  database: {_describe(database)}, {size:,} bytes, {DATABASE_FILE}")
    else:
        report.lines += _pg_dump_advice(url, dest)
    report.lines.append(f"  signing key: {_key_line(key_source, settings)}")
    if key_source == "environment":
        report.warnings.append(
            f"the signing key comes from {SECRET_KEY_ENV} and is not in the backup: keep it "
            "with your other secrets (without it, unsubscribe links already sent stop working)"
        )
    return report


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"database.url: cannot back up a {backend} database")
    return backend


def _sqlite_path(url: str) -> Path:
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
            _fsync(target)


def _describe_postgresql(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    engine = create_engine(url, hide_parameters=True)
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


def _describe(database: dict[str, Any]) -> str:
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


def _libpq_url(url: str) -> str:
    """The URL as pg_dump and psql read it: no SQLAlchemy driver name, no password."""
    parsed = make_url(masked_url(url)).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _pg_dump_advice(url: str, dest: Path) -> list[str]:
    name = make_url(url).database or "?"
    dump = dest / PG_DUMP_FILE
    return [
        f"  database: PostgreSQL database {name!r} is NOT in the backup; save it with pg_dump:",
        f"    pg_dump --format=custom --file={shlex.quote(str(dump))} "
        f"--dbname={shlex.quote(_libpq_url(url))}",
        "  (the password from PGPASSWORD or ~/.pgpass; `feedsvc restore` prints how to load it)",
    ]


# -- restore -----------------------------------------------------------------------------------


def restore(settings: Settings, source: Path, force: bool = False) -> Report:
    """Check the backup in `source` whole, then put its files where the settings say.
    Nothing is written unless every file matches the manifest; an existing database or a
    different key is replaced only with `force`, and never while a process has the SQLite
    database open."""
    source = Path(os.path.abspath(source))
    with _os_errors(source):
        return _restore(settings, source, force)


def _restore(settings: Settings, source: Path, force: bool) -> Report:
    manifest = read_manifest(source)
    url = database_url(settings)
    kind = _kind(url)
    database = manifest["database"]
    if database["kind"] != kind:
        raise BackupError(
            f"{source / MANIFEST}: the backup holds a {database['kind']} database, "
            f"database.url is {kind}: restore it into a {database['kind']} setup"
        )
    revision = database.get("schema_revision")
    known = _known_revisions()
    if revision is not None and revision not in known:
        raise BackupError(
            f"{source / MANIFEST}: the backup's schema is at revision {revision}, newer than this "
            f"feedsvc knows (newest {schema_version.head()}): restore it with feedsvc "
            f"{manifest.get('feedsvc_version', '?')} or later"
        )
    roles = {f["role"]: f for f in manifest["files"]}
    key = (source / KEY_FILE).read_bytes() if "key" in roles else None
    if key is not None and len(key.strip()) < KEY_MIN_BYTES:
        raise BackupError(
            f"{source / KEY_FILE}: the signing key is {len(key.strip())} bytes, "
            f"at least {KEY_MIN_BYTES} are needed"
        )

    db_target = _sqlite_path(url) if kind == "sqlite" else None
    key_target = settings.server.secret_key_file
    in_place = []
    if db_target is not None and db_target.is_file() and db_target.stat().st_size > 0:
        in_place.append(f"{db_target} already holds a database")
    key_differs = key is not None and _other_key(key_target, key)
    if key_differs:
        in_place.append(f"{key_target} holds another signing key")
    if in_place and not force:
        raise BackupError(
            "; ".join(in_place) + ": restoring would replace what is there (stop feedsvc serve, "
            "and move it aside or give --force)"
        )

    report = Report(manifest)
    made = manifest.get("created", "?")
    report.lines.append(
        f"restoring the backup in {source} (made {made} by feedsvc "
        f"{manifest.get('feedsvc_version', '?')})"
    )
    if db_target is not None:
        with _staged(db_target, source / DATABASE_FILE, roles["database"]) as staged:
            if force:
                _not_in_use(db_target)
            # A -wal or -shm left beside the target belongs to another database: SQLite
            # would replay it into this one.
            for suffix in ("-wal", "-shm", "-journal"):
                db_target.with_name(db_target.name + suffix).unlink(missing_ok=True)
            os.replace(staged, db_target)
        _fsync(db_target.parent)
        report.lines.append(f"  database: {_describe(database)} -> {db_target}")
        if revision != schema_version.head():
            report.lines.append(
                "  the schema is older than this feedsvc's: it is brought up to date at start "
                "(or by `feedsvc db upgrade` with database.auto_upgrade = false)"
            )
    else:
        report.lines += _pg_restore_advice(url, source)
    if key is not None:
        if key_differs or not key_target.exists():
            with _staged(key_target, source / KEY_FILE, roles["key"]) as staged:
                os.replace(staged, key_target)
            _fsync(key_target.parent)
        report.lines.append(f"  signing key -> {key_target}")
        if os.environ.get(SECRET_KEY_ENV) is not None:
            report.warnings.append(
                f"{SECRET_KEY_ENV} is set and wins over {key_target}: unset it to sign with "
                "the restored key"
            )
    elif manifest["key"] == "environment":
        report.lines.append(
            f"  signing key: not in the backup; set {SECRET_KEY_ENV} to the one the backed-up "
            "service had, or unsubscribe links already sent stop working"
        )
    return report


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in `folder`, once every file it names is there with its
    size and SHA-256; anything else is a BackupError naming the file."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder}: no such folder")
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{path}: missing: not a feedsvc backup, or one cut short") from None
    except (OSError, ValueError) as e:
        raise BackupError(f"{path}: not a readable manifest: {e}") from None
    _check_manifest(manifest, path)
    for entry in manifest["files"]:
        _verify(folder / entry["name"], entry)
    return manifest


def _check_manifest(manifest: Any, path: Path) -> None:
    def bad(why: str) -> BackupError:
        return BackupError(f"{path}: {why}")

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad("not a feedsvc backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise bad(
            f"format_version {manifest.get('format_version')!r}: this feedsvc reads "
            f"{FORMAT_VERSION} (made by feedsvc {manifest.get('feedsvc_version', '?')})"
        )
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("kind") not in ("sqlite", "postgresql"):
        raise bad("database.kind must be sqlite or postgresql")
    revision = database.get("schema_revision")
    if revision is not None and not isinstance(revision, str):
        raise bad("database.schema_revision must be a string")
    if manifest.get("key") not in ("file", "environment", "none"):
        raise bad("key must be file, environment or none")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise bad("files must be a list")
    roles = set()
    for entry in files:
        # Names come from a file anyone may have edited: only the two known ones are read.
        if (
            not isinstance(entry, dict)
            or _ROLES.get(entry.get("role")) != entry.get("name")
            or not isinstance(entry.get("size"), int)
            or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256")))
        ):
            raise bad(f"files: {entry!r} is not a known file with its size and sha256")
        roles.add(entry["role"])
    if len(roles) != len(files):
        raise bad("files: a file is listed twice")
    if ("database" in roles) != (database["kind"] == "sqlite"):
        raise bad("files: the SQLite database is missing (or listed for PostgreSQL)")
    if ("key" in roles) != (manifest["key"] == "file"):
        raise bad("files: the signing key is missing (or listed though key is not 'file')")


def _verify(path: Path, entry: dict[str, Any]) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BackupError(f"{path}: missing: the backup is incomplete") from None
    if size != entry["size"]:
        raise BackupError(
            f"{path}: {size:,} bytes, the manifest says {entry['size']:,}: the backup is damaged"
        )
    if _sha256(path) != entry["sha256"]:
        raise BackupError(f"{path}: its SHA-256 does not match the manifest: the backup is damaged")


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(schema_version.config())
    return {rev.revision for rev in script.walk_revisions()}


def _other_key(path: Path, key: bytes) -> bool:
    try:
        return path.read_bytes().strip() != key.strip()
    except FileNotFoundError:
        return False


def _not_in_use(database: Path) -> None:
    """Refuse to replace a database another process has open. Leaving WAL mode needs the
    database to itself: SQLite refuses ('database is locked') while any other connection,
    such as a running `feedsvc serve`'s, is open, idle or not."""
    if not database.exists():
        return
    try:
        with closing(sqlite3.connect(database, timeout=0.5)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise BackupError(
                f"{database} is in use (is feedsvc serve running?): stop it, then restore"
            ) from None
    except sqlite3.DatabaseError:
        pass  # not a database at all: nothing to lose by replacing it


def _pg_restore_advice(url: str, source: Path) -> list[str]:
    name = make_url(url).database or "?"
    dump = source / PG_DUMP_FILE
    return [
        f"  database: PostgreSQL database {name!r} is not restored by feedsvc; load the dump "
        "saved with pg_dump, with feedsvc stopped:",
        f"    pg_restore --clean --if-exists --no-owner "
        f"--dbname={shlex.quote(_libpq_url(url))} {shlex.quote(str(dump))}",
    ]


# -- files -------------------------------------------------------------------------------------


@contextmanager
def _os_errors(where: Path) -> Iterator[None]:
    """A file that cannot be read or written (permissions, a full disk, a name taken by
    another backup at the same moment) is said with its name, not as a traceback."""
    try:
        yield
    except OSError as e:
        raise BackupError(f"{e.filename or where}: {e.strerror or e}") from None


@contextmanager
def _staged(target: Path, source: Path, entry: dict[str, Any]) -> Iterator[Path]:
    """A private copy of `source` beside `target`, hashed as it is written (what lands is
    what the manifest says), yielded for the caller to rename into place; removed if it
    was not."""
    private_folder(target.parent)
    staged = target.with_name(f".{target.name}.restoring-{secrets.token_hex(4)}")
    digest = hashlib.sha256()
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{source}: changed while it was being restored")
        yield staged
    finally:
        staged.unlink(missing_ok=True)


def _entry(role: str, path: Path) -> dict[str, Any]:
    return {"role": role, "name": path.name, "size": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
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


def _fsync(path: Path) -> None:
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
