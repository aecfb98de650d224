"""A real `feedsvc serve` in a subprocess on 127.0.0.1, and a small client for it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import new_database_url

START_TIMEOUT = 20.0  # seconds until /healthz answers 200
STOP_TIMEOUT = 10.0  # seconds from SIGTERM to exit
T = TypeVar("T")
# `feedsvc serve` exits 0 after SIGTERM/SIGINT once its graceful shutdown is done.
CLEAN_EXIT = (0,)

# The settings every live server in these tests runs with; a test adds its own. Unless it
# names a `database`, each server gets a store of its own: SQLite in its var/, or an empty
# PostgreSQL database (FEEDSVC_TEST_DATABASE=postgresql).
BASE_CONFIG: dict[str, dict[str, Any]] = {
    "site": {"id_authority": "press.example.org", "timezone": "Asia/Shanghai"},
    "items": {"dir": "items", "scan_seconds": 1, "settle_seconds": 0.3},
    "server": {"cache_dir": "var/cache"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_text(tables: dict[str, dict[str, Any]]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(item) for item in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = []
    for name, table in tables.items():
        for entry in table if isinstance(table, list) else [table]:  # [[name]] for a list
            lines.append(f"[[{name}]]" if isinstance(table, list) else f"[{name}]")
            lines += [f"{key} = {value(v)}" for key, v in entry.items()]
            lines.append("")
    return "\n".join(lines)


def wait_for(check: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(interval)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text exposition -> {(name, labels): value}; every sample line must parse."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


class Server:
    """One service folder (config.toml, items/, var/) and the `feedsvc serve` running on it."""

    def __init__(self, root: Path, config: dict[str, dict[str, Any]] | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        tables = {name: dict(values) for name, values in BASE_CONFIG.items()}
        tables["site"]["base_url"] = self.base + "/"
        tables["server"]["port"] = self.port
        if "database" not in (config or {}):
            tables["database"] = {"url": new_database_url(root)}  # a store of its own
        for name, values in (config or {}).items():
            if isinstance(values, list):
                tables[name] = values
            else:
                tables.setdefault(name, {}).update(values)
        self.database_url: str = tables["database"]["url"]
        self.config = root / "config.toml"
        self.config.write_text(toml_text(tables), encoding="utf-8")
        self.items = root / "items"
        self.items.mkdir(parents=True, exist_ok=True)
        self.cache_dir = root / "var" / "cache"
        self.stdout_path = root / "serve.stdout"
        self.stderr_path = root / "serve.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        # What runs `python -m feedsvc serve`: a test may put a wrapper in front of it.
        self.launcher: list[str] = [sys.executable]
        self.http = requests.Session()

    # -- process ---------------------------------------------------------------------------

    def start(self, ready: Callable[[Server], object] | None = None) -> None:
        """Start the service and wait for /healthz, then for `ready(self)` if given; a
        service that does not get there is killed."""
        self._start()
        if ready is not None:
            try:
                ready(self)
            except BaseException:
                self.kill()
                raise

    def _start(self) -> None:
        assert self.proc is None, "already running"
        self.http = requests.Session()
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [*self.launcher, "-m", "feedsvc", "serve", "--config", str(self.config)],
                cwd=self.root,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                # As a service manager runs it: not with the test runner's unbuffered output.
                env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                raise AssertionError(f"feedsvc serve exited with {rc} at start:\n{self.log()}")
            try:
                if self.http.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"/healthz not 200 within {START_TIMEOUT} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM, clean_log: bool = True) -> int:
        """Send `sig`: the service must exit within STOP_TIMEOUT, tidy (its lifespan shutdown
        ran, nothing crashed). Returns the exit status (negative: killed by that signal)."""
        assert self.proc is not None, "not running"
        proc, self.proc = self.proc, None
        proc.send_signal(sig)
        try:
            rc = proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                f"feedsvc serve still running {STOP_TIMEOUT} s after {sig.name}:\n{self.log()}"
            ) from None
        finally:
            self.http.close()
        if clean_log:
            assert "Traceback" not in self.log(), self.log()
        # The run's cache folder goes with the run: the lifespan shutdown ran.
        assert list(self.cache_dir.glob("run-*")) == [], "no lifespan shutdown"
        return rc

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        self.http.close()

    def log(self) -> str:
        """What the service wrote to stderr (its log) so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def access_log(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    # -- HTTP ------------------------------------------------------------------------------

    def request(self, method: str, path: str, **headers: str) -> requests.Response:
        """`headers` with '_' for '-'; Accept-Encoding is identity unless given."""
        sent = {"Accept-Encoding": "identity"}
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        return self.http.request(
            method, self.base + path, headers=sent, timeout=10, allow_redirects=False
        )

    def get(self, path: str, **headers: str) -> requests.Response:
        return self.request("GET", path, **headers)

    def head(self, path: str, **headers: str) -> requests.Response:
        return self.request("HEAD", path, **headers)

    def body(self, path: str) -> bytes:
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code)
        return r.content

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        r = self.get("/metrics")
        assert r.status_code == 200
        return parse_metrics(r.text)

    # -- items -----------------------------------------------------------------------------

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.items / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path


def metric(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value; 0 when a counter has no sample yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def exported_documents(out: Path) -> dict[str, bytes]:
    """URL path -> bytes of every document `feedsvc build` wrote (gzip siblings aside)."""
    docs = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name.endswith(".gz"):
            continue
        rel = path.relative_to(out).as_posix()
        url = "/" + (rel.removesuffix("index.html") if path.name == "index.html" else rel)
        docs[url] = path.read_bytes()
    return docs


def build(server: Server, out: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedsvc",
            "build",
            "--config",
            str(server.config),
            "--out",
            str(out),
        ],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def smtp() -> Iterator[Recorder]:
    """An aiosmtpd server on 127.0.0.1 that records what it receives (its port on it), one
    per test module; a module may define its own."""
    recorder = Recorder()
    with smtp_server(recorder) as controller:
        recorder.port = controller.port  # type: ignore[attr-defined]
        yield recorder
