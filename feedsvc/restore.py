"""`feedsvc restore DIR`: a backup made by `feedsvc backup` (backup.py) checked whole, then
put where the settings say (issue 12 item 9).

Nothing is written until every file matches the manifest and the backup fits this setup
(the same database kind, a schema revision this feedsvc knows); what is there already is
replaced only with `--force`, and a SQLite database never while a process has it open.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from feedsvc.backup import (
    CHUNK,
    DATABASE_FILE,
    FORMAT,
    FORMAT_VERSION,
    KEY_FILE,
    MANIFEST,
    PG_DUMP_FILE,
    ROLES,
    BackupError,
    Report,
    database_kind,
    describe,
    fsync,
    libpq_url,
    os_errors,
    sha256_of,
    sqlite_path,
)
from feedsvc.config import SECRET_KEY_ENV, Settings, database_url
from feedsvc.privacy import FILE_MODE, private_folder
from feedsvc.sharing.keys import KEY_MIN_BYTES
from feedsvc.store import schema_version


def restore(settings: Settings, source: Path, force: bool = False) -> Report:
    """Check the backup in `source` whole, then put its files where the settings say.
    Nothing is written unless every file matches the manifest; an existing database or a
    different key is replaced only with `force`, and never while a process has the SQLite
    database open."""
    source = Path(os.path.abspath(source))
    with os_errors(source):
        return _restore(settings, source, force)


def _restore(settings: Settings, source: Path, force: bool) -> Report:
    # Every check before the first write: a refused restore leaves everything as it was.
    manifest = read_manifest(source)
    url = database_url(settings)
    kind = database_kind(url)
    _check_fits(manifest, source, kind)
    roles = {f["role"]: f for f in manifest["files"]}
    key = _read_key(source) if "key" in roles else None
    db_target = sqlite_path(url) if kind == "sqlite" else None
    key_target = settings.server.secret_key_file
    key_differs = _refuse_replacing(db_target, key_target, key, force)

    report = Report(manifest)
    report.lines.append(
        f"restoring the backup in {source} (made {manifest.get('created', '?')} by feedsvc "
        f"{manifest.get('feedsvc_version', '?')})"
    )
    if db_target is not None:
        _put_database(source, roles["database"], db_target, force)
        report.lines += _database_lines(manifest["database"], db_target)
    else:
        report.lines += _pg_restore_advice(url, source)
    if key is not None:
        if key_differs or not key_target.exists():
            with _staged(key_target, source / KEY_FILE, roles["key"]) as staged:
                os.replace(staged, key_target)
            fsync(key_target.parent)
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


def _check_fits(manifest: dict[str, Any], source: Path, kind: str) -> None:
    """The backup is of this setup's database kind, at a schema this feedsvc can run."""
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


def _read_key(source: Path) -> bytes:
    key = (source / KEY_FILE).read_bytes()
    if len(key.strip()) < KEY_MIN_BYTES:
        raise BackupError(
            f"{source / KEY_FILE}: the signing key is {len(key.strip())} bytes, "
            f"at least {KEY_MIN_BYTES} are needed"
        )
    return key


def _refuse_replacing(
    db_target: Path | None, key_target: Path, key: bytes | None, force: bool
) -> bool:
    """Without `force`, a database or another signing key already in place is refused.
    Whether the key in place differs from the backup's."""
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
    return key_differs


def _put_database(source: Path, entry: dict[str, Any], db_target: Path, force: bool) -> None:
    with _staged(db_target, source / DATABASE_FILE, entry) as staged:
        if force:
            _not_in_use(db_target)
        # A -wal or -shm left beside the target belongs to another database: SQLite
        # would replay it into this one.
        for suffix in ("-wal", "-shm", "-journal"):
            db_target.with_name(db_target.name + suffix).unlink(missing_ok=True)
        os.replace(staged, db_target)
    fsync(db_target.parent)


def _database_lines(database: dict[str, Any], db_target: Path) -> list[str]:
    lines = [f"  database: {describe(database)} -> {db_target}"]
    if database.get("schema_revision") != schema_version.head():
        lines.append(
            "  the schema is older than this feedsvc's: it is brought up to date at start "
            "(or by `feedsvc db upgrade` with database.auto_upgrade = false)"
        )
    return lines


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
            or ROLES.get(entry.get("role")) != entry.get("name")
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
    if sha256_of(path) != entry["sha256"]:
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
        f"--dbname={shlex.quote(libpq_url(url))} {shlex.quote(str(dump))}",
    ]


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
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{source}: changed while it was being restored")
        yield staged
    finally:
        staged.unlink(missing_ok=True)
