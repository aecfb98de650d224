"""deploy/feedsvc.service, feedsvc-export.service and .timer, and deploy/config.toml:
`systemd-analyze verify` finds nothing to say, the hardening keeps its exposure score, the
commands are ones the CLI takes, the paths agree between the files, and feedsvc runs under
MemoryDenyWriteExecute (the kernel's equivalent, tests/deploy/mdwe.py)."""

from __future__ import annotations

import mmap
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feedsvc.cli import _parser
from feedsvc.config import database_url, load_settings
from tests.conftest import SEED
from tests.deploy.conftest import DEPLOY, unavailable
from tests.deploy.mdwe import UNSUPPORTED

UNITS = ("feedsvc.service", "feedsvc-export.service", "feedsvc-export.timer")
SERVICES = ("feedsvc.service", "feedsvc-export.service")
SHIPPED_FEEDSVC = "/opt/feedsvc/.venv/bin/feedsvc"
MDWE = Path(__file__).with_name("mdwe.py")
# `systemd-analyze security` rates 0 (locked down) to 10; up to 2 it says "OK".
MAX_EXPOSURE = 2.0


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        unavailable(
            "FEEDSVC_REQUIRE_SYSTEMD_ANALYZE", "no systemd-analyze: apt-get install systemd"
        )
    return found


def unit(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def settings_of(name: str) -> dict[str, list[str]]:
    """key -> values of a unit file (a key may be given more than once)."""
    found: dict[str, list[str]] = {}
    for line in unit(name).splitlines():
        if m := re.fullmatch(r"([A-Za-z]+)=(.*)", line.strip()):
            found.setdefault(m[1], []).append(m[2])
    return found


@pytest.fixture
def runnable_units(tmp_path: Path) -> Path:
    """The shipped units with one change: ExecStart names this checkout's feedsvc instead
    of /opt/feedsvc/.venv/bin/feedsvc, which verify checks is an executable file."""
    here = Path(sys.executable).with_name("feedsvc")
    assert here.is_file(), f"{here}: feedsvc is not installed in this venv (pip install -e .)"
    for name in UNITS:
        text = unit(name)
        assert text.count(SHIPPED_FEEDSVC) == (name in SERVICES), name
        (tmp_path / name).write_text(text.replace(SHIPPED_FEEDSVC, str(here)), encoding="utf-8")
    return tmp_path


def test_systemd_analyze_verify_has_nothing_to_say(runnable_units: Path) -> None:
    tool = systemd_analyze()
    paths = [str(runnable_units / name) for name in UNITS]
    done = subprocess.run(
        [tool, "verify", *paths], capture_output=True, text=True, timeout=60, cwd=runnable_units
    )
    # verify exits 0 after warnings too (an unknown key is "ignoring"): nothing printed is
    # the test, which the next test shows verify would break.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_systemd_analyze_verify_would_speak_of_a_misspelt_hardening_option(
    runnable_units: Path,
) -> None:
    tool = systemd_analyze()
    service = runnable_units / "feedsvc.service"
    service.write_text(
        service.read_text().replace("ProtectSystem=", "ProtectSytem="), encoding="utf-8"
    )
    done = subprocess.run([tool, "verify", str(service)], capture_output=True, text=True)
    assert "Unknown key 'ProtectSytem'" in done.stdout + done.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_the_hardening_keeps_the_exposure_score_ok(runnable_units: Path, name: str) -> None:
    tool = systemd_analyze()
    done = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(runnable_units / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    assert m, done.stdout + done.stderr
    assert float(m[1]) <= MAX_EXPOSURE, done.stdout


@pytest.mark.parametrize("name", SERVICES)
def test_execstart_is_a_command_the_cli_takes(name: str) -> None:
    [command] = settings_of(name)["ExecStart"]
    program, *argv = command.split()
    assert program == SHIPPED_FEEDSVC
    args = _parser().parse_args(argv)
    assert args.config == Path("/etc/feedsvc/config.toml")
    assert args.run.__name__ == f"cmd_{argv[0]}"


def test_deploy_config_keeps_every_written_path_where_the_units_let_it_write() -> None:
    settings = load_settings(DEPLOY / "config.toml")
    serve = settings_of("feedsvc.service")
    export = settings_of("feedsvc-export.service")
    state = Path("/var/lib") / serve["StateDirectory"][0]
    cache = Path("/var/cache") / serve["CacheDirectory"][0]
    assert serve["ProtectSystem"] == ["strict"], "else the paths below need not agree"
    written = {
        "database.url": Path(database_url(settings).removeprefix("sqlite:///")),
        "mail.maildir": settings.mail.maildir,
        "server.secret_key_file": settings.server.secret_key_file,
    }
    for key, path in written.items():
        assert path.is_absolute() and path.is_relative_to(state), (key, path)
    assert settings.server.cache_dir.is_relative_to(cache)
    # build swaps a new folder in beside build.out: the parent is what it writes.
    assert export["ReadWritePaths"] == [str(settings.build.out.parent)]
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert f"root {settings.build.out};" in nginx
    assert f"server {settings.server.host}:{settings.server.port};" in nginx
    assert settings.server.trusted_proxies == ("127.0.0.1",), "nginx's address"
    assert settings.site.base_url == "https://press.example.org/"
    assert "server_name press.example.org;" in nginx
    assert serve["UMask"] == ["0077"] and export["UMask"] == ["0022"], "the export is public"


# -- MemoryDenyWriteExecute=yes ------------------------------------------------------------


def under_mdwe(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(MDWE), *argv], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    if done.returncode == UNSUPPORTED:
        pytest.skip(done.stderr.strip())
    return done


def test_the_mdwe_runner_refuses_writable_executable_memory() -> None:
    """The control: what MemoryDenyWriteExecute=yes forbids, the runner forbids."""
    code = (
        "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"
    )
    done = under_mdwe(sys.executable, "-c", code)
    assert done.returncode == 1 and "PermissionError" in done.stderr, done.stderr
    # ... which Python alone is allowed (mmap of W+X memory works here otherwise).
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()


def test_feedsvc_build_runs_under_memory_deny_write_execute(tmp_path: Path) -> None:
    """build loads the C extensions, forks its workers and swaps the export in through
    ctypes (renameat2); serve runs under it in test_nginx.py."""
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "sqlite:///var/feedsvc.db"\n', encoding="utf-8"
    )
    done = under_mdwe(
        sys.executable, "-m", "feedsvc", "build", "--config", "config.toml", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "public" / "feed.xml").is_file()
