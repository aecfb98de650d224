"""The awkward corpus read by feed readers' own parsers from npm (issue 12 items 1-2).

rss-parser's `contentSnippet` is what readers built on it list under a title; before the
fix it dropped the words between `<` and `>` of a summary. feedsmith is read the same way.
A value is taken as its format declares it: RSS `<description>` is HTML, an Atom text
construct says its type, JSON Feed `title` and `summary` are plain text; an RSS title
declares nothing, and is shown as HTML as feedparser guesses it.

The readers come from the npm registry, pinned by tests/readers/package-lock.json
(tests/npm.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import npm
from tests.publishing.test_awkward_text import AWKWARD, _Text, awkward  # noqa: F401


@pytest.fixture(scope="session")
def node_readers() -> Path:
    return npm.tools()


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
