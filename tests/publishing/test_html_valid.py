"""Every page the site writes passes the Nu Html Checker (the W3C's own validator, from
the npm package vnu-jar, tests/npm.py): the home, index, section and release pages and the
error page and the pages a browser gets for a feed, with the awkward corpus (issue 12) and the seed in them. The checker reports
errors and warnings alike; both must be none."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import npm
from tests.conftest import SEED, Newsroom
from tests.publishing.test_awkward_text import awkward  # noqa: F401
from tests.publishing.test_tags import EVIL, release


def nu_messages(home: Path, files: list[Path]) -> list[str]:
    java = shutil.which("java")
    if java is None:
        npm.unavailable("no Java runtime for the Nu Html Checker")
    jar = home / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    done = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--also-check-css", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    # vnu writes its JSON report to stderr and exits 1 when it has anything to say.
    report = json.loads(done.stderr)
    return [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine', '?')}: {m['type']}"
        f"{'/' + m['subType'] if 'subType' in m else ''}: {m['message']}"
        for m in report["messages"]
    ]


@pytest.mark.sqlite_only  # the pages are the same bytes on either database
def test_every_page_passes_the_nu_html_checker(
    newsroom: Newsroom,
    awkward: dict,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = npm.tools()
    shutil.copy(SEED, newsroom.items / SEED.name)
    # Issue 17: tags (one in Chinese, one with markup in its name) and the feeds page.
    newsroom.write("tagged.md", release("Tagged", "2021-03-09", ["Trade", "外交", EVIL]))
    newsroom.ingest()
    docs = newsroom.documents().values()
    pages = [d for d in docs if d.media_type.startswith("text/html")]
    assert len(pages) >= 19  # home, 404, 10 releases, 2 sections, tags/, 3 tags, feeds/
    assert {"tags/", "tags/外交/", "feeds/"} <= {d.path for d in pages}
    # The pages a browser gets for a feed (issue 12 item 3), main, section and archive.
    site = newsroom.site
    browser = [site.default.feed_page(d) for d in docs if d.feed is not None]
    assert len(browser) >= 9
    pages += [p for p in browser if p is not None]
    out = tmp_path / "pages"
    out.mkdir()
    files = []
    for doc in pages:
        name = doc.path.strip("/").replace("/", "_") or "home"
        file = out / (name + ("" if name.endswith(".html") else ".html"))
        file.write_bytes(doc.body)
        files.append(file)
    css = next(d for d in docs if d.path == "assets/style.css")
    (out / "style.css").write_bytes(css.body)
    assert nu_messages(home, [*files, out / "style.css"]) == []
