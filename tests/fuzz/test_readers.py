"""Every reader of the registry, fed files from disk: whatever the bytes, reading gives a
Release or a ReleaseError naming the file and a line the file has; nothing else escapes.

tests/reading/test_folder.py already fuzzes `parse_release` with short random files; here the
files go through `read_release`/`read_folder` with every ending the registry knows, and the
strategies aim deeper: the seed release bent by mutations, front matter whose YAML or TOML is
well-formed (so `_assemble` sees odd values) or broken, Markdown built of the constructs the
reader treats specially, and Unicode's other line breaks (U+2028, U+2029, U+0085), NUL, BOM
and bare CRs anywhere. Lines are counted as the readers document them (LF, CRLF or CR end a
line; U+2028, U+0085 and the like do not), which is what an editor shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import currently_in_test_context, event, example, given
from hypothesis import strategies as st

from feedsvc.config import Settings
from feedsvc.errors import ReleaseError
from feedsvc.model import Release, slugify
from feedsvc.reading import READERS, is_release_name, read_folder, read_release
from tests.conftest import SEED, SEED_TITLE
from tests.fuzz import fuzz
from tests.reading.helpers import make_settings

BOM = b"\xef\xbb\xbf"
SEED_BYTES = SEED.read_bytes()
# Every ending the registry knows, as written and in capitals (the registry ignores case).
ENDINGS = sorted({*READERS, *(e.upper() for e in READERS)})
SMALL_LIMIT = 2048  # items.max_bytes for the raw-bytes tests, so "too big" is reached too
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_DATE_ERROR = re.compile(r"^(?:impossible date|implausible year) '(.+?)': ")
_FRONT_MATTER_ERROR = ("front matter is not valid", "front matter is nested too deeply")

# Characters that have broken line counting, splitting or parsing somewhere before: Unicode's
# other line breaks, NUL and other controls, BOMs inside the text, bare CRs, NO-BREAK and
# zero-width spaces, bidi overrides, the dotted capital I (lowercases to two characters), a
# combining accent, and the ASCII punctuation the formats give meaning to.
HOSTILE = (
    "\u2028\u2029\u0085\x00\ufeff\r\x0b\x0c\x1c\x1e\x7f\u00a0\u202f\u200b\u202e\u0130\u0301"
    "\t \n>#<&;:-+*_`[]()!\\\"'|=~{}.,"
)
hostile_text = st.text(
    st.one_of(st.sampled_from(HOSTILE), st.characters(exclude_categories=("Cs",))), max_size=80
)
newline = st.sampled_from(["\n", "\r\n", "\r"])

DATELINES = [
    "On September 11, 2020, local time, the ministers met.",
    "MOSCOW, Sept. 11, 2020 — Ministers met.",
    "(Moscow, 11 September 2020) The ministers met.",
    "2020年9月11日",
    "On February 30, 2021, nobody met.",
    "On September 11, 1850, nobody met.",
    "On 11/09/2020 the ministers met.",
    "The ministers met.",
]


# -- the check every file goes through ----------------------------------------------------------


def text_lines(data: bytes) -> list[str] | None:
    """The file's lines as the readers number them (1-based: lines[n - 1]), or None when the
    bytes are not UTF-8."""
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def line_count(data: bytes) -> int:
    return len(data.removeprefix(BOM).replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"))


def front_matter_lines(lines: list[str]) -> range | None:
    """The file lines between the front matter's fences, if it has a closed one."""
    fence = lines[0].rstrip()
    if fence not in ("+++", "---"):
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() == fence:
            return range(2, i + 1)
    return None


def check(path: Path, rel: str, data: bytes, settings: Settings) -> Release | ReleaseError:
    """Read the file at `path` (holding `data`) as `rel`: a Release or a ReleaseError, both
    as they must be. Any other exception fails the test."""
    try:
        release = read_release(path, rel, settings)
    except ReleaseError as error:
        note("ReleaseError")
        check_error(error, rel, data)
        return error
    note("Release")
    check_release(release, rel, data, settings)
    return release


def note(outcome: str) -> None:
    if currently_in_test_context():  # for --hypothesis-show-statistics
        event(outcome)


def check_error(error: ReleaseError, rel: str, data: bytes) -> None:
    assert error.path == rel
    assert 1 <= error.line <= line_count(data) + 1, (error.line, line_count(data), str(error))
    # One line: `feedsvc check` prints one problem a line.
    assert error.message and error.message.strip() == error.message
    assert "\n" not in error.message and "\r" not in error.message, str(error)
    assert str(error) == f"{rel}:{error.line}: {error.message}"
    lines = text_lines(data)
    if lines is None:
        return
    inside = front_matter_lines(lines)
    if error.message.startswith(_FRONT_MATTER_ERROR):
        # A YAML or TOML error is on a line of the front matter, not past it.
        assert inside is not None and error.line in inside, (error.line, inside, str(error))
    written = _DATE_ERROR.match(error.message)
    if written and rel.lower().endswith(".txt"):
        # Plain text is taken as written: the named line holds the date's first word.
        first_word = written[1].split()[0]
        assert first_word in lines[error.line - 1], (error.line, lines, str(error))


def check_release(release: Release, rel: str, data: bytes, settings: Settings) -> None:
    assert release.source == rel
    # It fits the store's columns (PostgreSQL refuses what does not): id and section slug
    # 200 characters, language 35.
    assert _ID.match(release.id), release.id
    assert len(slugify(release.section)) <= 200, release.section
    assert len(release.language) <= 35, release.language
    for text in (release.title, release.section):
        # One line of text, white space squashed (U+2028 and U+0085 are white space too).
        assert text and text == " ".join(text.split()), text
    assert release.published.tzinfo is not None
    assert release.published.utcoffset() is not None
    assert release.body_html.strip()
    assert "<script" not in release.body_html.lower()
    assert _LANGUAGE.match(release.language)
    assert all(tag and tag == " ".join(tag.split()) for tag in release.tags)
    assert len(set(release.tags)) == len(release.tags)
    from_front_matter = "summary" in data.decode("utf-8", "replace")
    assert len(release.summary) <= settings.feeds.summary_chars or from_front_matter
    assert re.fullmatch(r"[0-9a-f]{64}", release.content_hash)


def read_bytes(rel: str, data: bytes, settings: Settings) -> Release | ReleaseError:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / rel
        path.write_bytes(data)
        return check(path, rel, data, settings)


SMALL = make_settings(Path("items"), max_bytes=SMALL_LIMIT)
DEFAULT = make_settings(Path("items"))


# -- any bytes ---------------------------------------------------------------------------------

ending = st.sampled_from(ENDINGS)


@fuzz()
@given(ending=ending, data=st.binary(max_size=SMALL_LIMIT + 200))
def test_any_bytes(ending: str, data: bytes) -> None:
    read_bytes("release" + ending, data, SMALL)


# Byte sequences UTF-8 decoders get wrong: overlong forms, encoded surrogates, code points past
# U+10FFFF, truncated sequences, a BOM where none belongs, and the UTF-8 of U+2028 and U+0085.
AWKWARD_BYTES = [
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\xff",
    b"\x80",
    BOM,
    b"\xe2\x80\xa8",
    b"\xc2\x85",
    b"\x00",
    b"\r",
]


@fuzz()
@given(
    ending=ending,
    pieces=st.lists(st.one_of(st.sampled_from(AWKWARD_BYTES), st.binary(max_size=8)), max_size=30),
    at=st.integers(0, len(SEED_BYTES)),
)
def test_awkward_bytes_inside_the_seed(ending: str, pieces: list[bytes], at: int) -> None:
    data = SEED_BYTES[:at] + b"".join(pieces) + SEED_BYTES[at:]
    read_bytes("release" + ending, data, DEFAULT)


# -- the seed, bent ------------------------------------------------------------------------------

SEED_LINES = SEED_BYTES.decode("utf-8").split("\n")
FRAGMENTS = [
    "",
    " ",
    "Home > News",
    "Home\u00a0>\u00a0News & Events",
    "Home > > News",
    "Home >",
    "> News",
    "Home > " + "Very Long Section " * 12,  # a slug of over 200 characters
    "Home > " + "\ufdfa" * 12,  # 12 characters whose slug is 216 (NFKD expands them)
    "<Suggest To A Friend>",
    "< suggest  to a FRIEND >",
    "+++",
    "---",
    "section = 'S'",
    "title: T",
    *DATELINES,
]


@st.composite
def bent_seeds(draw: st.DrawFn) -> bytes:
    """The seed release with lines dropped, doubled, swapped, replaced or cut, characters
    put into them, other newlines and a BOM: mostly still release-shaped."""
    lines = list(SEED_LINES)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["drop", "double", "swap", "replace", "insert", "splice"]))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "drop" and lines:
            del lines[i]
        elif op == "double" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "replace" and lines:
            lines[i] = draw(st.one_of(st.sampled_from(FRAGMENTS), hostile_text))
        elif op == "insert":
            lines.insert(i, draw(st.one_of(st.sampled_from(FRAGMENTS), hostile_text)))
        elif op == "splice" and lines:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(hostile_text) + lines[i][at:]
    data = draw(newline).join(lines).encode("utf-8")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # a half-written file
    return (BOM if draw(st.booleans()) else b"") + data


@fuzz()
@given(ending=ending, data=bent_seeds())
def test_bent_seed(ending: str, data: bytes) -> None:
    # The seed's layout read by every reader: .md files get newsroom text too.
    read_bytes("release" + ending, data, DEFAULT)


def test_the_seed_reads_whatever_the_case_of_its_ending() -> None:
    for ending_ in (".txt", ".TXT"):
        release = read_bytes("release" + ending_, SEED_BYTES, DEFAULT)
        assert isinstance(release, Release) and release.title == SEED_TITLE


# -- front matter: well-formed YAML/TOML with odd values, and broken ------------------------------

KEYS = ["id", "title", "date", "section", "language", "tags", "summary", "author", "publish_at"]
KEYS += ["updated", "Title", "date ", "colour", ""]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
    st.sampled_from(["2020-09-11", "2020-09-11T09:00:00+08:00", "2020-02-30", "2020-09-11T25:00"]),
    st.sampled_from(["fr", "en-GB", "English", "release-1", "../x", "a b", "x" * 201]),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)
tables = st.dictionaries(st.one_of(st.sampled_from(KEYS), hostile_text), values, max_size=6)
words = st.one_of(
    st.sampled_from(["Press", "Zoë Müller", "News & Events", "Q&A: 1 < 2"]), hostile_text
)
moments = st.one_of(
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.sampled_from(["2020-09-11", "2020-09-11T09:00:00+08:00", "2020-02-30", "next Tuesday"]),
)
# Only keys the readers know, with values of about the right kind: these reach _assemble.
good_tables = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["release-1", "R.2_b", "../x", "a b", "x" * 201, "ü"]),
        "title": words,
        "section": st.one_of(words, st.integers(190, 230).map(lambda n: "S" * n)),
        "summary": words,
        "author": words,
        "date": moments,
        "publish_at": moments,
        "updated": moments,
        "language": st.sampled_from(
            ["fr", "en-GB", "zh-Hant-TW", "English", "e", "en-" + "-".join(["abcdefgh"] * 4)]
        ),
        "tags": st.one_of(words, st.lists(words, max_size=4), st.lists(values, max_size=2)),
    },
)


def toml_value(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    # JSON's escapes are TOML's, but for characters past U+FFFF (surrogate pairs): keep those.
    return json.dumps(str(value), ensure_ascii=False)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def yaml_body(table: dict[str, object], flow: bool) -> str:
    def plain(value: object) -> object:  # PyYAML's safe dumper knows no time zones objects
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return yaml.safe_dump(plain(table), allow_unicode=True, default_flow_style=flow)


YAML_FRAGMENTS = [
    "title: T",
    "section: S",
    "date: 2020-09-11",
    "- a",
    "  nested: [",
    "a: &anchor [1, 2]",
    "b: *anchor",
    "c: *missing",
    "!!binary aGVsbG8=",
    "tags: !!set {a, b}",
    "? complex",
    "%YAML 1.1",
    "{",
    "'unterminated",
    '"\\x"',
    "key: |",
    "key: >-",
    "\tkey: tab",
    "title: \u2028",
    "title: a\u0085b",
    "...",
    "title: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
]
TOML_FRAGMENTS = [
    "title = 'T'",
    "section = 'S'",
    "date = 2020-09-11",
    "date = 2020-09-11T09:00:00+08:00",
    "date = 09:00:00",
    "[table]",
    "[[array]]",
    "tags = ['a', 1]",
    "title = '''",
    'title = """\u2028"""',
    "title = ",
    "= 'no key'",
    "a.b.c = 1",
    "id = 'x'\nid = 'y'",
    "x = {a = {b = {c = {d = [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}}}}",
]
BODIES = [
    ["Home > News", "A title", "", DATELINES[0]],
    ["# A title", "", DATELINES[0], "", "Second paragraph."],
    ["", DATELINES[1]],
    [],
]


@st.composite
def front_matter_files(draw: st.DrawFn) -> tuple[str, bytes]:
    fence = draw(st.sampled_from(["---", "+++"]))
    how = draw(st.sampled_from(["good", "good", "dumped", "fragments", "mixed"]))
    body: list[str] = []
    if how in ("good", "dumped", "mixed"):
        table = draw(good_tables if how == "good" else tables)
        if fence == "---":
            body += yaml_body(table, draw(st.booleans())).split("\n")
        else:
            body += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    if how in ("fragments", "mixed"):
        pieces = YAML_FRAGMENTS if fence == "---" else TOML_FRAGMENTS
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(body)))
            body.insert(at, draw(st.one_of(st.sampled_from(pieces), hostile_text)))
    other = "+++" if fence == "---" else "---"
    closing = draw(st.sampled_from([fence] * 6 + [fence + "  ", other]))
    rest = draw(st.sampled_from(BODIES))
    text = draw(newline).join([fence, *body, closing, *rest])
    return draw(st.sampled_from(ENDINGS)), text.encode("utf-8")


@fuzz()
@given(file=front_matter_files())
# Found by this test: values too wide for the store's columns (PostgreSQL refused them and
# `feedsvc serve` did not start).
@example(file=(".md", b"---\nsection: " + b"S" * 230 + b"\n---\n# T\n\nOn May 1, 2020, x."))
@example(file=(".md", b"---\nsection: S\nlanguage: en" + b"-abcdefgh" * 4 + b"\n---\n# T\n\nx"))
def test_front_matter(file: tuple[str, bytes]) -> None:
    ending_, data = file
    read_bytes("release" + ending_, data, DEFAULT)


# A character YAML refuses to read, on a known line of otherwise good front matter.
YAML_REFUSES = st.sampled_from(["\x01", "\x08", "\x0e", "\x1b", "\x7f", "\ufffe", "\x9f"])


@fuzz(0.25)
@given(
    before=st.integers(0, 4),
    after=st.integers(0, 4),
    bad=YAML_REFUSES,
    nl=newline,
    ending=st.sampled_from([".txt", ".md"]),
)
def test_a_character_yaml_refuses_is_named_on_its_line(
    before: int, after: int, bad: str, nl: str, ending: str
) -> None:
    lines = ["---", *[f"k{i}: {i}" for i in range(before)], f"title: a{bad}b"]
    lines += [f"m{i}: {i}" for i in range(after)] + ["---", "# T", "", DATELINES[0]]
    error = read_bytes("release" + ending, nl.join(lines).encode(), DEFAULT)
    assert isinstance(error, ReleaseError)
    assert error.message.startswith("front matter is not valid YAML")
    assert error.line == before + 2, str(error)


# -- Markdown built of what the reader treats specially --------------------------------------------

MARKDOWN = [
    "# A title",
    "# ",
    "#",
    "## Sub",
    "Title\n=====",
    "&#10;",
    "&#x2028;",
    "&#0;",
    "&amp;",
    "&nbsp;",
    "&#x130;",
    "<script>",
    "</script>",
    "<style>p{}</style>",
    "<script>2020-09-11</script>",
    "<div>",
    "</div>",
    "<!--",
    "-->",
    "```",
    "~~~",
    "    indented code",
    "> quote",
    "- item",
    "1. item",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "[x]: http://example.org",
    '[x](http://example.org "t")',
    "[x](javascript:alert(1))",
    "![i](x.png)",
    "<http://example.org>",
    "`code`",
    "\\",
    "***",
    "~~gone~~",
    "<Suggest To A Friend>",
    *DATELINES,
]


# What may stand in the first paragraph before its dateline: entities (one a line break),
# inline HTML (hidden or spanning lines), code, emphasis, soft and hard line breaks.
INLINE = [
    "&#10;",
    "&#10;&#10;&#10;",
    "&#13;",
    "&#x2028;",
    "&nbsp;",
    "*",
    "_",
    "`x`",
    "`a\nb`",
    "<span>",
    "<script>x</script>",
    "<script>\n2020-09-11\n</script>",
    '<b\ntitle="x">',
    "<!-- c -->",
    "\n",
    "  \n",
    "\\\n",
    "[",
    "](x)",
]


@st.composite
def markdown_files(draw: st.DrawFn) -> bytes:
    """Front matter (mostly with the section a Markdown release needs), a title, a first
    paragraph of inline pieces and a dateline, then blocks of anything."""
    lines: list[str] = []
    front = draw(st.sampled_from(["section: S"] * 4 + ["title: T\nsection: S", "", None]))
    if front is not None:
        lines += ["---", front, "---"]
    heading = ["# A title"] * 4 + ["A title\n=======", "", "## Sub", "#"]
    lines += [draw(st.sampled_from(heading)), ""]
    lead = draw(st.lists(st.sampled_from(INLINE), max_size=6))
    if draw(st.booleans()):
        lead.insert(draw(st.integers(0, len(lead))), draw(hostile_text))
    # Half the time a date the reader refuses, so that its line is named.
    dateline = draw(st.sampled_from(DATELINES + ["On February 30, 2021, x."] * len(DATELINES)))
    lines.append("".join(lead) + dateline)
    for _ in range(draw(st.integers(0, 8))):
        piece = draw(st.sampled_from(MARKDOWN))
        if draw(st.integers(0, 4)) == 0:
            piece += draw(hostile_text)
        if draw(st.booleans()):  # several on one line too
            lines[-1] += draw(st.sampled_from(["", " "])) + piece
        else:
            lines.append(piece)
    return draw(newline).join(lines).encode("utf-8")


@fuzz()
@given(ending=st.sampled_from([".md", ".markdown", ".MD"]), data=markdown_files())
# Found by this test: line 8 of a 6-line file (each &#10; counted as a line); a title of two
# lines (a setext heading), which no feed or email subject can carry.
@example(ending=".md", data=b"---\nsection: S\n---\n# T\n\n&#10;&#10;On February 30, 2021, x.")
@example(
    ending=".md", data=b"---\nsection: S\n---\nA title\nin two lines\n===\n\nOn May 1, 2020, x."
)
def test_markdown(ending: str, data: bytes) -> None:
    read_bytes("release" + ending, data, DEFAULT)


# -- Unicode's other line breaks, and newline styles --------------------------------------------------


@fuzz()
@given(
    ending=ending,
    parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS + MARKDOWN), hostile_text), max_size=16),
    bom=st.booleans(),
)
def test_any_text_reads_the_same_with_any_newlines(
    ending: str, parts: list[str], bom: bool
) -> None:
    """LF, CRLF and CR files of the same text read alike: the same release, or the same
    error on the same line."""
    text = "\n".join(parts).replace("\r", "")
    outcomes = []
    for nl in ("\n", "\r\n", "\r"):
        data = (BOM if bom else b"") + text.replace("\n", nl).encode("utf-8")
        outcomes.append(read_bytes("release" + ending, data, DEFAULT))
    if all(isinstance(o, Release) for o in outcomes):
        seen = {(o.id, o.title, o.section, o.published, o.body_html, o.summary) for o in outcomes}
        assert len(seen) == 1
    else:
        assert all(isinstance(o, ReleaseError) for o in outcomes), outcomes
        assert len({(o.line, o.message) for o in outcomes}) == 1, outcomes


# -- a folder of fuzzed files: the good ones still publish ----------------------------------------

GOOD_MARKDOWN = "---\nsection: Statements\n---\n# Good Markdown\n\nOn 11 September 2020, it read.\n"
any_file = st.one_of(
    st.binary(max_size=300),
    bent_seeds(),
    markdown_files(),
    front_matter_files().map(lambda file: file[1]),
)


# File names as people write them: any script, spaces, dots, and long ones (up to the 255
# bytes a name may have), whose id must still fit.
stems = st.one_of(
    st.sampled_from(
        ["f", "2020-09-11 Déclaration", "新闻稿", "a.b.c", "—", "#x", ".hidden", "~$x"]
    ),
    st.text(st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)), min_size=1),
    st.integers(190, 240).map(lambda n: "a" * (n - 3) + " b"),
).filter(lambda stem: len(stem.encode()) <= 240)


@fuzz(0.5)
@given(
    files=st.lists(st.tuples(stems, ending, any_file), min_size=1, max_size=6),
    folders=st.lists(st.sampled_from(["", "a/", "a/b/"]), min_size=6, max_size=6),
)
# Found by this test: an id of 230 characters, from the file name.
@example(
    files=[("a" * 228 + " b", ".txt", b"Home > News\nT\n\nOn May 1, 2020, x.")], folders=[""] * 6
)
def test_read_folder_reads_every_good_file_whatever_lies_beside_it(
    files: list[tuple[str, str, bytes]], folders: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        good = {"good/seed.txt": SEED_BYTES, "good/zz.md": GOOD_MARKDOWN.encode()}
        fuzzed = {f"{folders[i]}{stem}{e}": data for i, (stem, e, data) in enumerate(files)}
        fuzzed = {rel: data for rel, data in fuzzed.items() if rel not in good}
        for rel, data in {**good, **fuzzed}.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        settings = make_settings(root)

        out = read_folder(settings)

    # Hidden files and editors' backups are not releases; every other file is there.
    fuzzed = {rel: data for rel, data in fuzzed.items() if is_release_name(Path(rel).name)}
    assert out.present == set(good) | set(fuzzed)
    read = {release.source: release for release, _ in out.releases}
    assert read["good/seed.txt"].title == SEED_TITLE
    assert read["good/zz.md"].title == "Good Markdown"
    problems = {problem.path: problem for problem in out.problems}
    assert len(problems) == len(out.problems)  # one problem a file at most
    for rel, data in fuzzed.items():
        assert (rel in read) != (rel in problems), rel  # read, or reported: exactly one
        if rel in problems:
            assert 1 <= problems[rel].line <= line_count(data) + 1
            assert str(problems[rel]).startswith(f"{rel}:{problems[rel].line}: ")
        else:
            check_release(read[rel], rel, data, settings)
    assert not set(problems) & set(good)
