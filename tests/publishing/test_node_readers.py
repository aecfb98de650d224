"""The awkward corpus read by feed readers' own parsers from npm (issue 12 items 1-2).

rss-parser's `contentSnippet` is what readers built on it list under a title; before the
fix it dropped the words between `<` and `>` of a summary. feedsmith is read the same way.
A value is taken as its format declares it: RSS `<description>` is HTML, an Atom text
construct says its type, JSON Feed `title` and `summary` are plain text; an RSS title
declares nothing, and is shown as HTML as feedparser guesses it.

The readers are installed once from tests/readers/package-lock.json with `npm ci` into a
cache folder. Where FEEDSVC_REQUIRE_NODE is set (CI), a missing Node.js or a failed
install fails these tests instead of skipping them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.publishing.test_awkward_text import AWKWARD, _Text, awkward  # noqa: F401

READERS = Path(__file__).resolve().parent.parent / "readers"
REQUIRED = bool(os.environ.get("FEEDSVC_REQUIRE_NODE"))


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (FEEDSVC_REQUIRE_NODE is set)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node_readers() -> Path:
    """A folder holding tests/readers with its node_modules, installed once per lock."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("Node.js and npm are not installed")
    lock = (READERS / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + (READERS / "package.json").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    home = cache / "feedsvc-tests" / f"node-readers-{key}"
    if not (home / "node_modules" / ".package-lock.json").exists():
        scratch = home.with_name(home.name + f".{os.getpid()}")
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
            _unavailable(f"npm ci failed: {done.stderr[-2000:]}")
        shutil.rmtree(home, ignore_errors=True)
        scratch.rename(home)
    shutil.copy(READERS / "read.mjs", home / "read.mjs")
    return home


def read(home: Path, docs: dict, tmp_path: Path, *paths: str) -> dict:
    files = []
    for path in paths:
        file = tmp_path / path.replace("/", "_")
        file.write_bytes(docs[path].body)
        files.append(str(file))
    done = subprocess.run(
        ["node", str(home / "read.mjs"), *files],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)
    return {path: found[file] for path, file in zip(paths, files, strict=True)}


def as_html(value: str) -> str:
    return "".join(_Text(value).parts)


def shown(value: str | dict) -> str:
    """An Atom text construct by its type ({value, type}); a plain string as it is."""
    if isinstance(value, dict):
        return as_html(value["value"]) if value.get("type") in ("html", "xhtml") else value["value"]
    return value


def test_rss_parser_lists_every_summary_and_title_as_written(
    node_readers: Path,
    awkward: dict,  # noqa: F811
    tmp_path: Path,
) -> None:
    got = read(node_readers, awkward, tmp_path, "feed.xml", "atom.xml")
    rss = got["feed.xml"]["rss-parser"]
    # contentSnippet: the text of <description>, the words between < and > kept.
    assert sorted((as_html(i["title"]), i["snippet"]) for i in rss) == sorted(AWKWARD)
    atom = got["atom.xml"]["rss-parser"]
    assert sorted(as_html(i["summary"]) for i in atom) == sorted(s for _, s in AWKWARD)


def test_feedsmith_reads_every_format_as_written(
    node_readers: Path,
    awkward: dict,  # noqa: F811
    tmp_path: Path,
) -> None:
    got = read(node_readers, awkward, tmp_path, "feed.xml", "atom.xml", "feed.json")
    assert [got[p]["format"] for p in ("feed.xml", "atom.xml", "feed.json")] == [
        "rss",
        "atom",
        "json",
    ]
    rss = got["feed.xml"]["feedsmith"]
    assert sorted((as_html(i["title"]), as_html(i["description"])) for i in rss) == sorted(AWKWARD)
    atom = got["atom.xml"]["feedsmith"]
    assert sorted((shown(i["title"]), shown(i["summary"])) for i in atom) == sorted(AWKWARD)
    items = got["feed.json"]["feedsmith"]
    assert sorted((i["title"], i["summary"]) for i in items) == sorted(AWKWARD)
