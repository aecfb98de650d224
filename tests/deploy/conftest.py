"""The shipped deployment files (deploy/) run for real: nginx, started unprivileged in a
folder of its own as bench/serve.py starts it, and systemd-analyze. Without them the tests
skip, unless FEEDSVC_REQUIRE_NGINX=1 or FEEDSVC_REQUIRE_SYSTEMD_ANALYZE=1 (as .ci/run
sets them) makes that a failure."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
NGINX_TEMPS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
START_TIMEOUT = 10.0


def unavailable(require_env: str, reason: str) -> NoReturn:
    """Skip, or fail when CI said the tool must be there."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{require_env}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).is_file():
        unavailable("FEEDSVC_REQUIRE_NGINX", "no nginx: apt-get install nginx")
    return found


def render(template: str, replacements: dict[str, str]) -> str:
    """`template` with each key replaced; every key must occur exactly once, so a change to
    the shipped file that this test no longer matches fails here, loudly."""
    for old, new in replacements.items():
        count = template.count(old)
        assert count == 1, f"{old!r} occurs {count} times in the shipped file, not once"
        template = template.replace(old, new)
    return template


class Nginx:
    """nginx in the foreground, with everything it writes under `prefix`: a main
    configuration as Debian's /etc/nginx/nginx.conf has it (mime.types, `gzip on`) that
    includes `site` (an http-block file such as deploy/nginx.conf)."""

    def __init__(self, prefix: Path, site: str, ports: list[int]) -> None:
        self.binary = nginx_binary()
        self.prefix = prefix
        self.ports = ports
        # A worker started by root runs as nobody: it must be able to walk to its files.
        prefix.chmod(0o755)
        (prefix / "feedsvc.conf").write_text(site, encoding="utf-8")
        mime = Path("/etc/nginx/mime.types")
        temps = "\n".join(f"    {k}_temp_path {prefix}/{k};" for k in NGINX_TEMPS)
        (prefix / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/error.log;\nevents {{}}\nhttp {{\n"
            + (f"    include {mime};\n" if mime.is_file() else "")
            + "    default_type application/octet-stream;\n    sendfile on;\n    gzip on;\n"
            f"    access_log {prefix}/access.log;\n{temps}\n"
            f"    include {prefix}/feedsvc.conf;\n}}\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        conf, err = self.prefix / "nginx.conf", self.prefix / "error.log"
        return [self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(err), *extra]

    def start(self) -> None:
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refuses the configuration:\n{checked.stderr}"
        with (self.prefix / "nginx.stderr").open("ab") as err:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=err, stderr=err
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not all(_listening(port) for port in self.ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"nginx did not start:\n{self.errors()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def errors(self) -> str:
        return "".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in (self.prefix / "error.log", self.prefix / "nginx.stderr")
            if path.exists()
        )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
