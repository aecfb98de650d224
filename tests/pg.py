"""A throwaway PostgreSQL cluster for the test run, and an empty database for each test.

The cluster comes from Debian's binaries (`/usr/lib/postgresql/<version>/bin`, the newest),
lives in a temporary folder, answers on a free port of 127.0.0.1 and trades durability for
speed (fsync off). It starts on first use and stops when the run ends.

A database is never made per test: CREATE DATABASE takes 25-120 ms here, while emptying a
used one (every schema dropped, `public` made again) takes 3-5 ms. So a database a test
is done with goes back to a pool, emptied, for the next test.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

DEBIAN_ROOT = Path("/usr/lib/postgresql")
REQUIRE_ENV = "FEEDSVC_REQUIRE_POSTGRES"
SUPERUSER = "feedsvc"
# initdb and postgres refuse to run as root; Debian's package makes this user for them.
SYSTEM_USER = "postgres"
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
# No passwords (the cluster listens only on 127.0.0.1 and in its own folder); C.UTF-8
# sorts text by code point, as SQLite does.
INITDB_OPTIONS = ("-A", "trust", "-U", SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
START_TIMEOUT = 30  # seconds for pg_ctl start -w


class Unavailable(Exception):
    """PostgreSQL is not installed here."""


def binaries() -> Path | None:
    """The `bin` folder of the newest PostgreSQL installed, or None."""
    found = []
    for initdb in DEBIAN_ROOT.glob("*/bin/initdb"):
        version = initdb.parent.parent.name
        if version.replace(".", "").isdigit():
            found.append((tuple(int(part) for part in version.split(".")), initdb.parent))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A running cluster: its data and Unix socket in `folder`, TCP on 127.0.0.1:`port`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.owner_pid = os.getpid()  # a forked child must not stop it at its exit
        self.user = _system_user() if os.geteuid() == 0 else None
        self.folder = Path(tempfile.mkdtemp(prefix="feedsvc-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = 0
        self.admin: psycopg.Connection | None = None
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)

    def start(self) -> None:
        self._run("initdb", "-D", self.data, *INITDB_OPTIONS)
        for _ in range(3):  # the free port may be taken before the server binds it
            self.port = _free_port()
            options = [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-c unix_socket_directories={self.folder}",
                *(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()),
            ]
            start = ("start", "-w", "-t", str(START_TIMEOUT), "-D", self.data, "-l", self.log)
            try:
                self._run("pg_ctl", *start, "-o", " ".join(options))
                break
            except RuntimeError:
                if "Address already in use" not in self._log_tail():
                    raise
        else:
            raise RuntimeError(f"PostgreSQL found no free port:\n{self._log_tail()}")
        self.admin = psycopg.connect(self.url("postgres"), autocommit=True)

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:
            return
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str | Path, check: bool = True) -> None:
        command = [str(self.bin / program), *map(str, args)]
        done = subprocess.run(
            command,
            cwd=self.folder,  # pg_ctl wants a current folder its user may enter
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 30,
            **(
                {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
                if self.user is not None
                else {}
            ),
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with {done.returncode}:\n{done.stdout}{done.stderr}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"tests run as root, and PostgreSQL refuses to: its binaries run as the "
            f"'{SYSTEM_USER}' system user, which does not exist (Debian's postgresql package "
            f"makes it; or run the tests as another user)"
        ) from None


class Databases:
    """Empty databases on `cluster`, lent out and taken back."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.made = 0
        self._free: list[str] = []
        # One idle connection into each database, kept to empty it when it comes back.
        self._janitors: dict[str, psycopg.Connection] = {}

    def lend(self) -> str:
        """The name of an empty database, made if none is free."""
        if self._free:
            return self._free.pop()
        self.made += 1
        name = f"test_{self.made}"
        assert self.cluster.admin is not None
        self.cluster.admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 STRATEGY FILE_COPY").format(
                sql.Identifier(name)
            )
        )
        self._janitors[name] = psycopg.connect(
            self.cluster.url(name), autocommit=True, options="-c lock_timeout=10s"
        )
        return name

    def take_back(self, name: str) -> None:
        """Empty `name` as if made anew (whoever is still connected is cut off) and keep it
        for the next test."""
        janitor = self._janitors[name]
        janitor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        schemas = [
            sql.Identifier(nspname)
            for (nspname,) in janitor.execute(
                "SELECT nspname FROM pg_namespace"
                " WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'"
            )
        ]
        with janitor.transaction():
            if schemas:
                janitor.execute(
                    sql.SQL("DROP SCHEMA {} CASCADE").format(sql.SQL(", ").join(schemas))
                )
            janitor.execute("CREATE SCHEMA public")
        self._free.append(name)

    def close(self) -> None:
        for janitor in self._janitors.values():
            janitor.close()
        self._janitors.clear()


_cluster: Cluster | None = None
_databases: Databases | None = None
_problem: tuple[str, str] | None = None  # ("skip" or "fail", why), once a start failed
_lent: list[list[str]] = [[]]  # per open scope; the bottom one lasts the whole run


def databases() -> Databases:
    """The run's databases, on a cluster started at the first call. Without PostgreSQL
    installed the test is skipped, or fails with FEEDSVC_REQUIRE_POSTGRES=1."""
    global _cluster, _databases, _problem
    if _databases is not None:
        return _databases
    if _problem is None:
        try:
            found = binaries()
            if found is None:
                raise Unavailable(
                    f"PostgreSQL is not installed (no {DEBIAN_ROOT}/<version>/bin/initdb):"
                    " apt-get install postgresql"
                )
            cluster = Cluster(found)
            atexit.register(cluster.stop)  # should the run end without stop()
            _cluster = cluster
            cluster.start()
            _databases = Databases(cluster)
            return _databases
        except Unavailable as e:
            _problem = ("skip", str(e))
        except (OSError, RuntimeError, subprocess.SubprocessError, psycopg.Error) as e:
            _problem = ("fail", f"could not start a PostgreSQL cluster for the tests: {e}")
    kind, message = _problem
    if kind == "skip" and os.environ.get(REQUIRE_ENV) != "1":
        pytest.skip(message)
    pytest.fail(f"{message} ({REQUIRE_ENV}=1)" if kind == "skip" else message, pytrace=False)


def fresh_database() -> str:
    """The SQLAlchemy URL of an empty database, kept until the innermost open
    `lending_scope()` ends (or until the run ends, outside any)."""
    name = databases().lend()
    _lent[-1].append(name)
    assert _cluster is not None
    return _cluster.url(name, driver="postgresql+psycopg")


@contextmanager
def lending_scope() -> Iterator[None]:
    """Databases lent inside go back to the pool, emptied, at the end."""
    _lent.append([])
    try:
        yield
    finally:
        names = _lent.pop()
        if names:
            assert _databases is not None
            for name in names:
                _databases.take_back(name)


def stop() -> None:
    global _cluster, _databases
    if _databases is not None:
        _databases.close()
    if _cluster is not None:
        _cluster.stop()
    _cluster = _databases = None
