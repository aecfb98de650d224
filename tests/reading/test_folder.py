"""read_folder over a folder of good and broken release files (tests/data/good and
tests/data/broken): every broken file is reported with its exact `path:line: message`, every
good file still yields its release. And: whatever the bytes, reading reports, never crashes."""

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from feedsvc.errors import ReleaseError
from feedsvc.model import FileState, ReadProblem, Release
from feedsvc.reading import parse_release, read_folder
from tests.reading.helpers import make_settings

DATA = Path(__file__).resolve().parents[1] / "data"
SEED_TITLE = (
    "Wang Yi: China and Russia Are Key Forces of Stability in Turbulent International Situation"
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_BYTES = 4096  # broken/oversize.txt is 5,000 bytes; every good file is smaller
KEYS = (
    "id, title, date, section, language, tags, summary, author, publish_at, updated, image, "
    "attachments, translation_key, change_note, contact, notes_to_editors"
)
NO_DATE = (
    "no date: expected a dateline at the start of the first paragraph "
    "(e.g. 'On September 11, 2020, ...') or 'date' in front matter"
)
DATE_HINT = "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)"
BAD_ID = "front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)"

BROKEN = {
    "binary.txt": (1, "not UTF-8 text (byte 0x89 at offset 0)"),
    "latin1.txt": (2, "not UTF-8 text (byte 0xe9 at offset 15)"),
    "nul.txt": (4, "not a text file (contains NUL bytes)"),
    "empty.txt": (1, "empty file: expected a release"),
    "blank.txt": (1, "empty file: expected a release"),
    "no-title.txt": (2, "no title: expected the title on the line after the breadcrumb"),
    "no-breadcrumb.txt": (
        3,
        "expected a breadcrumb such as 'Home > News & Events', found 'Cafe opens in Beijing'",
    ),
    "no-body.txt": (3, "no body: expected paragraphs separated by blank lines after the title"),
    "no-date.txt": (4, NO_DATE),
    "impossible-date.txt": (
        6,
        "impossible date 'February 30, 2021': day is out of range for month",
    ),
    "oversize.txt": (1, "file is 5,000 bytes; the limit (items.max_bytes) is 4,096"),
    "unclosed-front-matter.md": (
        1,
        "front matter opened with '+++' is never closed by another '+++'",
    ),
    "invalid-toml.md": (3, "front matter is not valid TOML: Invalid value"),
    "invalid-yaml.md": (3, "front matter is not valid YAML: mapping values are not allowed here"),
    "not-a-table.md": (2, "front matter must be a table of keys and values"),
    "unknown-key.md": (5, f"unknown front-matter key 'category'; expected one of: {KEYS}"),
    "bad-date.md": (4, f"front-matter 'date' is not a date: 'next Tuesday' {DATE_HINT}"),
    "bad-date-type.md": (4, "front-matter 'date' must be a date or a date and time"),
    "bad-tags.md": (5, "front-matter 'tags' must be a list of text"),
    "bad-id.md": (2, BAD_ID),
    "bad-language.md": (5, "front-matter 'language' 'English' is not a language tag"),
    "bad-title.md": (2, "front-matter 'title' must be non-empty text"),
    "no-title.md": (5, "no title: expected a 'title' in front matter or a '# Title' first line"),
    "no-section.md": (1, "no section: expected a breadcrumb or 'section' in front matter"),
    "no-date.md": (6, NO_DATE),
    "impossible-date.md": (6, "impossible date '31 April 2021': day is out of range for month"),
    "empty-body.md": (6, "no body: the release has no text"),
}

SEED_AT_9 = dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)
GOOD = {
    # file: (id, title, section, published, number of <p> in the body)
    "2020-09-11-wang-yi-china-russia-stability.txt": (
        "2020-09-11-wang-yi-china-russia-stability",
        SEED_TITLE,
        "News & Events",
        SEED_AT_9,
        5,
    ),
    "seed-crlf-bom.txt": ("seed-crlf-bom", SEED_TITLE, "News & Events", SEED_AT_9, 5),
    "seed-cr.txt": ("seed-cr", SEED_TITLE, "News & Events", SEED_AT_9, 5),
    "front-matter-override.txt": (
        "moscow-press-meeting",
        "Wang Yi Meets the Press in Moscow",
        "Diplomacy",
        dt.datetime(2020, 9, 12, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        5,
    ),
    "toml-front-matter.md": (
        "ministry-briefing-2021-03-02",
        "Regular Press Conference",
        "Press Conferences",
        dt.datetime(2021, 3, 2, 15, 0, tzinfo=SHANGHAI),
        2,
    ),
    "yaml-front-matter.md": (
        "yaml-front-matter",
        "Déclaration sur le climat",
        "Statements",
        dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI),
        2,
    ),
}


@pytest.fixture
def items(tmp_path):
    """A tmp copy of tests/data/good and tests/data/broken as items/good/, items/broken/."""
    root = tmp_path / "items"
    for name in ("good", "broken"):
        shutil.copytree(DATA / name, root / name)
    return root


def test_data_folders_hold_exactly_the_expected_files():
    assert sorted(p.name for p in (DATA / "broken").iterdir()) == sorted(BROKEN)
    assert sorted(p.name for p in (DATA / "good").iterdir()) == sorted(GOOD)
    assert (DATA / "good" / "2020-09-11-wang-yi-china-russia-stability.txt").read_bytes() == (
        Path(__file__).resolve().parents[2]
        / "items"
        / "2020-09-11-wang-yi-china-russia-stability.txt"
    ).read_bytes()


def test_broken_files_are_reported_and_good_files_still_read(items):
    out = read_folder(make_settings(items, max_bytes=MAX_BYTES))

    assert out.problems == [
        ReadProblem(f"broken/{name}", line, message)
        for name, (line, message) in sorted(BROKEN.items())
    ]
    assert [str(p) for p in out.problems] == [
        f"broken/{name}:{line}: {message}" for name, (line, message) in sorted(BROKEN.items())
    ]
    read = {release.source: release for release, _ in out.releases}
    assert sorted(read) == [f"good/{name}" for name in sorted(GOOD)]
    for name, (release_id, title, section, published, paragraphs) in GOOD.items():
        release = read[f"good/{name}"]
        assert release.id == release_id
        assert release.title == title
        assert release.section == section
        assert release.published == published
        assert release.published.utcoffset() == published.utcoffset()
        assert release.body_html.count("<p>") == paragraphs
        assert "Suggest" not in release.body_html
    assert out.present == {f"good/{n}" for n in GOOD} | {f"broken/{n}" for n in BROKEN}
    assert out.unchanged == 0


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_file_alone(name):
    # The same error from parse_release, with the path as given.
    data = (DATA / "broken" / name).read_bytes()
    line, message = BROKEN[name]
    with pytest.raises(ReleaseError) as caught:
        parse_release(name, data, make_settings(DATA, max_bytes=MAX_BYTES))
    assert (caught.value.path, caught.value.line, caught.value.message) == (name, line, message)


def test_good_file_details(items):
    out = read_folder(make_settings(items, max_bytes=MAX_BYTES))
    read = {release.source: release for release, _ in out.releases}

    toml = read["good/toml-front-matter.md"]
    assert toml.tags == ("briefing", "Asia")
    assert toml.author == "Spokesperson's Office"
    assert toml.summary == "The spokesperson answered questions on trade and climate."
    assert toml.body_html == (
        "<p>The spokesperson answered questions on <strong>trade</strong> and <em>climate</em>."
        '</p>\n<p>Full transcript: <a href="https://example.org/transcript" '
        'rel="noopener noreferrer">link</a>.</p>'
    )

    yaml = read["good/yaml-front-matter.md"]
    # No 'language' (issue 15: 'fr' would need [languages.fr]; test_languages.py has them).
    assert yaml.language == "en"
    assert yaml.tags == ("climat", "énergie")
    assert yaml.summary == "Le 11 septembre 2020, le ministère a publié une déclaration."

    seeds = [read[f"good/{n}"] for n in GOOD if n.endswith(".txt")]
    assert len({r.body_html for r in seeds}) == 1
    assert len({r.content_hash for r in seeds}) == len(seeds)


def test_file_states_are_the_files_mtime_and_size(items):
    out = read_folder(make_settings(items, max_bytes=MAX_BYTES))
    for release, state in out.releases:
        st = (items / release.source).stat()
        assert state == FileState(st.st_mtime_ns, st.st_size)


# -- which files are releases -----------------------------------------------------------------

RELEASE = b"Home > News\nTitle\n\nOn May 1, 2020, the ministry spoke.\n"


def test_hidden_backup_and_other_files_are_ignored(tmp_path):
    files = {
        "a.txt": RELEASE,
        "b.md": b"---\nsection: News\n---\n# B\n\nOn May 2, 2020, x.\n",
        "c.markdown": b"---\nsection: News\n---\n# C\n\nOn May 3, 2020, x.\n",
        "D.TXT": RELEASE,
        ".hidden.txt": b"",
        "a.txt~": b"",
        "~$lock.txt": b"",
        "#autosave.txt": b"",
        ".#a.txt": b"",
        "notes.rst": b"",
        "README": b"",
        "picture.png": b"\x89PNG",
        ".git/config.txt": b"",
        ".drafts/draft.txt": b"",
        "sub/.hidden.md": b"",
        "sub/backup.md~": b"",
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)

    out = read_folder(make_settings(tmp_path))

    assert out.problems == []
    assert out.present == {"a.txt", "b.md", "c.markdown", "D.TXT"}
    assert sorted(r.source for r, _ in out.releases) == ["D.TXT", "a.txt", "b.md", "c.markdown"]
    assert sorted(r.id for r, _ in out.releases) == ["D", "a", "b", "c"]


def test_subfolders_give_slash_separated_paths_in_order(tmp_path):
    for rel in ("2021/03/z.txt", "2021/a.txt", "b.txt", "2020/12/31/x.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(RELEASE)
    (tmp_path / "2021" / "bad.txt").write_bytes(b"")

    out = read_folder(make_settings(tmp_path))

    assert [r.source for r, _ in out.releases] == [
        "2020/12/31/x.txt",
        "2021/03/z.txt",
        "2021/a.txt",
        "b.txt",
    ]
    assert [r.id for r, _ in out.releases] == ["x", "z", "a", "b"]
    assert out.problems == [ReadProblem("2021/bad.txt", 1, "empty file: expected a release")]
    assert out.present == {
        "2020/12/31/x.txt",
        "2021/03/z.txt",
        "2021/a.txt",
        "2021/bad.txt",
        "b.txt",
    }
    assert all("\\" not in p for p in out.present)


def test_empty_folder(tmp_path):
    out = read_folder(make_settings(tmp_path))
    assert (out.releases, out.problems, out.present, out.unchanged) == ([], [], set(), 0)


# -- skip: files already stored ---------------------------------------------------------------


def _state(path):
    st = path.stat()
    return FileState(st.st_mtime_ns, st.st_size)


def test_skip_with_the_same_state_skips_the_file(tmp_path):
    (tmp_path / "a.txt").write_bytes(RELEASE)
    (tmp_path / "b.txt").write_bytes(RELEASE)
    (tmp_path / "c.txt").write_bytes(b"")
    skip = {"a.txt": _state(tmp_path / "a.txt"), "c.txt": _state(tmp_path / "c.txt")}

    out = read_folder(make_settings(tmp_path), skip=skip)

    assert [r.source for r, _ in out.releases] == ["b.txt"]
    assert out.problems == []  # c.txt is broken but unchanged: not read again
    assert out.unchanged == 2
    assert out.present == {"a.txt", "b.txt", "c.txt"}


@pytest.mark.parametrize(
    "stale",
    [
        lambda s: FileState(s.mtime_ns - 1, s.size),
        lambda s: FileState(s.mtime_ns, s.size + 1),
    ],
    ids=["other mtime", "other size"],
)
def test_skip_with_another_state_reads_the_file(stale, tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(RELEASE)
    out = read_folder(make_settings(tmp_path), skip={"a.txt": stale(_state(path))})
    assert [r.source for r, _ in out.releases] == ["a.txt"]
    assert out.unchanged == 0


def test_edited_file_is_read_again(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(RELEASE)
    before = _state(path)
    path.write_bytes(RELEASE.replace(b"Title", b"New title"))
    os.utime(path, ns=(before.mtime_ns + 10**9, before.mtime_ns + 10**9))

    out = read_folder(make_settings(tmp_path), skip={"a.txt": before})

    assert [r.title for r, _ in out.releases] == ["New title"]


def test_skip_of_a_deleted_file_changes_nothing(tmp_path):
    (tmp_path / "a.txt").write_bytes(RELEASE)
    out = read_folder(make_settings(tmp_path), skip={"gone.txt": FileState(1, 2)})
    assert out.present == {"a.txt"}
    assert out.unchanged == 0


def test_progress_is_called_once_per_file(tmp_path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_bytes(RELEASE)
    calls = []
    read_folder(
        make_settings(tmp_path), skip={}, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


# -- one bad file never stops the others ------------------------------------------------------

CRASH = {
    "yaml-impossible-date.md": (4, ValueError),
    "yaml-hour-25.md": (4, ValueError),
    "toml-deep-nesting.md": (3, RecursionError),
    "yaml-deep-nesting.md": (3, RecursionError),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(name) for name, (_, error) in CRASH.items()],
)
def test_a_file_that_trips_the_parser_does_not_stop_the_others(name, items):
    shutil.copy(DATA / "crash" / name, items / name)

    out = read_folder(make_settings(items, max_bytes=MAX_BYTES))

    assert len(out.releases) == len(GOOD)
    [problem] = [p for p in out.problems if p.path == name]
    assert problem.line == CRASH[name][0]


# -- whatever the bytes: a Release or a ReleaseError, nothing else ----------------------------

FRAGMENTS = [
    "",
    " ",
    "+++",
    "---",
    "Home > News",
    "Home\u00a0>\u00a0News & Events",
    "Home > News > ",
    "# A title",
    "Title",
    "title = 'T'",
    "title: T",
    "section = 'S'",
    "section: S",
    "date = 2020-09-11",
    "date: 2020-09-11T10:00:00+02:00",
    "date: '2020-09-11'",
    "tags = ['a', 1]",
    "tags: a, b",
    "id: ../x",
    "language: xx-YY",
    "colour: red",
    "title = ",
    "[table]",
    "On September 11, 2020, local time, they met.",
    "On February 30, 2021, x.",
    "(Moscow, 11 September 2020) x",
    "2020年9月11日",
    "<Suggest To A Friend>",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "\u2028",
    "\x0c",
]
lines = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=14)
newline = st.sampled_from(["\n", "\r\n", "\r"])


TOML_KEYS = [
    "id = 'release-1'",
    "title = 'From front matter'",
    "section = 'Diplomacy'",
    "date = 2020-09-11T10:00:00+02:00",
    "date = 2021-03-01",
    "language = 'fr'",
    "tags = ['a', 'b']",
    "summary = 'Short.'",
    "author = 'Press Office'",
    "publish_at = 2030-01-01T00:00:00Z",
    "updated = 2021-01-01T12:00:00",
]
YAML_KEYS = [
    "id: release-1",
    "title: From front matter",
    "section: Diplomacy",
    "date: 2020-09-11T10:00:00+02:00",
    "date: 2021-03-01",
    "language: fr",
    "tags: [a, b]",
    "summary: Short.",
    "author: Press Office",
    "publish_at: 2030-01-01T00:00:00Z",
    "updated: 2021-01-01 12:00:00",
]
DATELINES = [
    "On September 11, 2020, local time, the ministers met.",
    "On 11 September 2020, the ministers met.",
    "(Moscow, September 11, 2020) The ministers met.",
    "BEIJING, March 1, 2021 -- The ministers met.",
    "The ministers met.",
]


@st.composite
def near_releases(draw):
    """Files shaped like releases, then bent: most read, some don't - both paths get exercised."""
    rel = draw(st.sampled_from(["x.txt", "x.md"]))
    out = []
    fence = draw(st.sampled_from(["", "+++", "---"]))
    if fence:
        keys = TOML_KEYS if fence == "+++" else YAML_KEYS
        out += [fence, *draw(st.lists(st.sampled_from(keys), max_size=5, unique=True)), fence]
    if rel == "x.txt":
        out += [draw(st.sampled_from(["Home > News", "Home\u00a0>\u00a0News & Events", "Title"]))]
        out += [draw(st.sampled_from(["A title", "Q&A: 1 < 2", ""]))]
    else:
        out += [draw(st.sampled_from(["# A title", "Title\n=====", "", "## Sub"]))]
    for i in range(draw(st.integers(1, 4))):
        out += [""] * draw(st.integers(1, 2))
        out += [
            draw(st.sampled_from(DATELINES)) if i == 0 else draw(st.text(min_size=1, max_size=30))
        ]
    if draw(st.booleans()):
        out += ["", "<Suggest To A Friend>"]
    for _ in range(draw(st.integers(0, 2))):  # bend it
        at = draw(st.integers(0, len(out)))
        out.insert(at, draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20))))
    nl = draw(newline)
    text = nl.join(out) + (nl if draw(st.booleans()) else "")
    return rel, (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()


def line_count(data: bytes) -> int:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1


def check(rel, data, settings):
    try:
        release = parse_release(rel, data, settings)
    except ReleaseError as e:
        event("ReleaseError")
        assert e.path == rel
        assert 1 <= e.line <= line_count(data) + 1
        assert e.message
        assert str(e) == f"{rel}:{e.line}: {e.message}"
    else:
        event("Release")
        assert isinstance(release, Release)
        assert release.title.strip() == release.title and release.title
        assert release.section
        assert release.published.tzinfo is not None
        assert release.body_html
        assert release.source == rel
        assert len(release.summary) <= settings.feeds.summary_chars or "summary" in data.decode(
            "utf-8-sig"
        )


PROPERTY = hyp_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def small(tmp_path):
    return make_settings(tmp_path, max_bytes=1500)


@PROPERTY
@given(data=st.binary(max_size=600))
@pytest.mark.parametrize("rel", ["x.txt", "x.md"])
def test_any_bytes(rel, data, small):
    check(rel, data, small)


@PROPERTY
@given(parts=lines, nl=newline, final=st.booleans(), bom=st.booleans())
@pytest.mark.parametrize("rel", ["x.txt", "x.md"])
def test_any_text(rel, parts, nl, final, bom, small):
    text = nl.join(parts) + (nl if final else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    check(rel, data, small)


@PROPERTY
@given(parts=lines, nl=newline, body=st.lists(st.sampled_from(FRAGMENTS), max_size=6))
@pytest.mark.parametrize(("rel", "fence"), [("x.md", "+++"), ("x.md", "---"), ("x.txt", "---")])
def test_any_front_matter(rel, fence, parts, nl, body, small):
    text = nl.join([fence, *parts, fence, *body])
    check(rel, text.encode(), small)


@PROPERTY
@given(file=near_releases())
def test_near_releases(file, small):
    rel, data = file
    check(rel, data, small)
