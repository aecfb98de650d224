"""Tools from the npm registry that tests run as their users do: feed readers' parsers
(rss-parser, feedsmith) and the Nu Html Checker (vnu-jar), pinned by
tests/readers/package-lock.json and installed once per lock with `npm ci` into a cache
folder. Where FEEDSVC_REQUIRE_NODE is set (CI), a missing Node.js or a failed install
fails the tests that need them instead of skipping them."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

READERS = Path(__file__).resolve().parent / "readers"
REQUIRED = bool(os.environ.get("FEEDSVC_REQUIRE_NODE"))


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (FEEDSVC_REQUIRE_NODE is set)")
    pytest.skip(reason)


@functools.cache
def _install() -> Path | str:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        return "Node.js and npm are not installed"
    lock = (READERS / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + (READERS / "package.json").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    home = cache / "feedsvc-tests" / f"npm-{key}"
    if not (home / "node_modules" / ".package-lock.json").exists():
        scratch = home.with_name(f"{home.name}.{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(READERS / name, scratch / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr[-2000:]}"
        shutil.rmtree(home, ignore_errors=True)
        scratch.rename(home)  # whole or not at all: a half install is never taken
    shutil.copy(READERS / "read.mjs", home / "read.mjs")
    return home


def tools() -> Path:
    """The folder with node_modules and read.mjs; skips (or fails, in CI) without them."""
    found = _install()
    if isinstance(found, str):
        unavailable(found)
    assert isinstance(found, Path)
    return found
