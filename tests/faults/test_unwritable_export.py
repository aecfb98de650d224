"""`feedsvc build` into an output that cannot be written, for real: exit 1, one clear line
naming the path and the system's error, and the previous export byte for byte as it was.

The tests run as root, for whom permissions are no obstacle, so the output is made
unwritable in ways that stop root too:

- the export's folder is immutable (`chattr +i`): no staging folder can be made beside it;
- the export itself is immutable: the new export is written, but cannot be swapped in;
- the file system is full: a tmpfs just big enough for one export, in a mount namespace
  of the test's own (`unshare`), so nothing outside it sees the mount.

Each is skipped, with the reason, where the machine cannot do it. A path whose parent is
a regular file (ENOTDIR) is tests/test_cli.py::test_unwritable_output_is_a_clear_error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED, new_database_url, newsroom_text
from tests.web.conftest import toml_text


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "build", "--config", "config.toml", "--out", str(out)],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
    )


def add_release(site: Path, n: int) -> None:
    text = newsroom_text(f"Release {n}", "May 1, 2021", [f"text of release {n}."])
    (site / "items" / f"r{n}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / SEED.name)
    for n in range(1, 6):
        add_release(tmp_path, n)
    tables = {
        "site": {"base_url": "https://press.example.org/", "id_authority": "press.example.org"},
        "database": {"url": new_database_url(tmp_path)},
        "share": {"enabled": False},
    }
    (tmp_path / "config.toml").write_text(toml_text(tables), encoding="utf-8")
    return tmp_path


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Paths to make immutable; made mutable again after the test, whatever happened."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def make_immutable(path: Path, undo: list[Path]) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here (e2fsprogs)")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is refused here: {done.stderr.strip()}")
    undo.append(path)
    probe = path / ".probe"
    try:
        probe.touch()
    except PermissionError:
        return
    probe.unlink()
    pytest.skip("an immutable folder still takes new files here")


def test_an_immutable_export_folder_fails_clearly_and_keeps_the_export(
    site: Path, immutable: list[Path]
) -> None:
    out = site / "web" / "public"
    first = build(site, out)
    assert first.returncode == 0, first.stderr
    before = tree(out)
    add_release(site, 6)
    make_immutable(out.parent, immutable)
    done = build(site, out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (
        f"feedsvc: cannot write the export next to {out}: Operation not permitted;"
        " the previous export is unchanged\n"
    )
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["public"]


def test_an_immutable_export_is_not_swapped_out_and_stays_as_it_was(
    site: Path, immutable: list[Path]
) -> None:
    out = site / "web" / "public"
    first = build(site, out)
    assert first.returncode == 0, first.stderr
    before = tree(out)
    add_release(site, 6)
    make_immutable(out, immutable)
    done = build(site, out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (
        f"feedsvc: cannot write the export to {out}: Operation not permitted ({out}); "
        "the previous export is unchanged\n"
    )
    assert tree(out) == before
    # The new export written beside it was cleared away.
    assert sorted(p.name for p in out.parent.iterdir()) == ["public"]


# The full file system: everything runs inside one `unshare` (user and mount namespaces),
# since the tmpfs exists only there. The driver prints what it saw as JSON.
FULL_DISK = r"""
import hashlib, json, os, subprocess, sys
from pathlib import Path

site, web = Path(sys.argv[1]), Path(sys.argv[2])
out = web / "public"

def mount(options):
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(web)], check=True)

def build():
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "build", "--config", "config.toml", "--out", str(out)],
        cwd=site, capture_output=True, text=True, timeout=120,
    )
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

def tree():
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*")) if p.is_file()
    }

def used():
    s = os.statvfs(web)
    return (s.f_blocks - s.f_bfree) * s.f_frsize

mount("size=64m")
report = {"first": build()}
report["before"] = tree()
report["used"] = used()
# Room for one export and a half: not for a second one beside it.
mount_size = report["used"] * 3 // 2
subprocess.run(["mount", "-o", f"remount,size={mount_size}", str(web)], check=True)
(site / "items" / "r6.txt").write_text(sys.argv[3], encoding="utf-8")
report["full"] = build()
report["after"] = tree()
report["beside"] = sorted(p.name for p in web.iterdir())
subprocess.run(["mount", "-o", "remount,size=64m", str(web)], check=True)
report["again"] = build()
report["new_page"] = (out / "releases" / "r6" / "index.html").is_file()
print(json.dumps(report))
"""


def test_a_full_file_system_fails_clearly_and_keeps_the_export(site: Path) -> None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("no unshare or mount here (util-linux)")
    web = site / "web"
    web.mkdir()
    namespaces = ["unshare", "--user", "--map-root-user", "--mount"]
    probe = subprocess.run(
        [*namespaces, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(web)],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"no tmpfs in a user and mount namespace here: {probe.stderr.strip()}")
    release = newsroom_text("Release 6", "May 1, 2021", ["text of release 6."])
    done = subprocess.run(
        [*namespaces, sys.executable, "-c", FULL_DISK, str(site), str(web), release],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["first"]["code"] == 0, report["first"]
    out = web / "public"
    full = report["full"]
    assert full["code"] == 1, full
    assert full["stderr"].startswith(f"feedsvc: cannot write the export to {out}: "), full
    assert "No space left on device" in full["stderr"], full
    assert full["stderr"].endswith("; the previous export is unchanged\n"), full
    assert full["stderr"].count("\n") == 1 and "Traceback" not in full["stderr"], full
    assert report["after"] == report["before"]
    assert report["beside"] == ["public"]  # the half-written staging folder was removed
    # With room again, the next build publishes what the failed one could not.
    assert report["again"]["code"] == 0, report["again"]
    assert report["new_page"]
