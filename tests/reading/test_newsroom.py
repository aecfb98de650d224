"""The newsroom text reader (.txt): the seed release, its byte-level variants, escaping,
the errors a broken file gets (file, line, reason), and the summary cut."""

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedsvc.config import settings_from_dict
from feedsvc.errors import ReleaseError
from feedsvc.reading import cut_summary, parse_release
from tests.reading.helpers import make_settings

REPO = Path(__file__).resolve().parents[2]
SEED_NAME = "2020-09-11-wang-yi-china-russia-stability.txt"
SEED = (REPO / "items" / SEED_NAME).read_bytes()
SEED_TITLE = (
    "Wang Yi: China and Russia Are Key Forces of Stability in Turbulent International Situation"
)
SEED_FIRST_PARAGRAPH = (
    "On September 11, 2020, local time, State Councilor and Foreign Minister Wang Yi and "
    "Russian Foreign Minister Sergey Lavrov jointly met the press following a meeting in Moscow."
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED_PUBLISHED = dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)
FOOTER = b"\n\n<Suggest To A Friend>"
NBSP = "\u00a0".encode()


def read_error(rel, data, settings):
    with pytest.raises(ReleaseError) as caught:
        parse_release(rel, data, settings)
    return str(caught.value)


# -- the seed release, as the press office published it ---------------------------------------


def test_seed_fixture_is_the_press_offices_bytes():
    # What the tests below rely on: NBSP breadcrumb, two blank lines, footer without newline.
    assert SEED.startswith("Home\u00a0>\u00a0News & Events\n".encode())
    assert SEED.endswith(FOOTER)
    assert SEED.count(NBSP) == 2


def test_seed_release(settings):
    release = parse_release(SEED_NAME, SEED, settings)

    assert release.title == SEED_TITLE
    assert release.section == "News & Events"
    assert release.section_slug == "news-events"
    assert release.published == SEED_PUBLISHED
    assert release.published.tzinfo == SHANGHAI
    assert release.published.utcoffset() == dt.timedelta(hours=8)
    assert release.id == "2020-09-11-wang-yi-china-russia-stability"
    assert release.language == "en"
    assert release.source == SEED_NAME
    assert release.summary == SEED_FIRST_PARAGRAPH
    assert (release.tags, release.author, release.publish_at, release.updated) == (
        (),
        None,
        None,
        None,
    )
    assert len(release.content_hash) == 64


def test_seed_body_is_five_paragraphs_without_the_footer(settings):
    body = parse_release(SEED_NAME, SEED, settings).body_html

    paragraphs = body.split("\n")
    assert len(paragraphs) == 5
    assert all(p.startswith("<p>") and p.endswith("</p>") for p in paragraphs)
    assert body.count("<p>") == 5
    assert body.count("</p>") == 5
    assert paragraphs[0] == f"<p>{SEED_FIRST_PARAGRAPH}</p>"
    assert paragraphs[4].startswith("<p>Bilateral cooperation has continued to yield")
    assert paragraphs[4].endswith("China-Russia practical cooperation.</p>")
    assert "Suggest To A Friend" not in body
    assert "Suggest" not in body
    # Neither the breadcrumb nor the title is body text.
    assert "Home" not in body
    assert SEED_TITLE not in body
    # The quotes of '"political virus"' stay plain text in the body.
    assert 'the "political virus" that' in paragraphs[3]


def test_seed_default_time_comes_from_the_settings(tmp_path):
    settings = make_settings(tmp_path, default_time="14:30")
    release = parse_release(SEED_NAME, SEED, settings)
    assert release.published == dt.datetime(2020, 9, 11, 14, 30, tzinfo=SHANGHAI)


def test_seed_timezone_comes_from_the_settings(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path)}, "site": {"timezone": "Europe/Moscow"}}, root=tmp_path
    )
    release = parse_release(SEED_NAME, SEED, settings)
    assert release.published == dt.datetime(2020, 9, 11, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert release.published.utcoffset() == dt.timedelta(hours=3)


def _crlf(data):
    return data.replace(b"\n", b"\r\n")


def _cr(data):
    return data.replace(b"\n", b"\r")


def _bom(data):
    return b"\xef\xbb\xbf" + data


SEED_VARIANTS = {
    "as published": lambda d: d,
    "CRLF": _crlf,
    "CR only": _cr,
    "UTF-8 BOM": _bom,
    "final newline": lambda d: d + b"\n",
    "final CRLF and BOM": lambda d: _bom(_crlf(d + b"\n")),
    "plain spaces in breadcrumb": lambda d: d.replace(NBSP, b" "),
    "tabs and runs of spaces in breadcrumb": lambda d: d.replace(NBSP + b">" + NBSP, b" \t>  "),
    "extra blank lines": lambda d: d.replace(b"\n\n", b"\n\n\n\n"),
    "blank lines holding white space": lambda d: d.replace(b"\n\n", b"\n  \n\t\n" + NBSP + b"\n"),
    "blank lines before the breadcrumb": lambda d: b"\n\n \n" + d,
    "trailing spaces on every line": lambda d: d.replace(b"\n", b"  \n"),
    "footer missing": lambda d: d.removesuffix(FOOTER),
    "footer missing, final newline": lambda d: d.removesuffix(FOOTER) + b"\n",
    "footer with blank lines after it": lambda d: d + b"\n\n\n",
    "footer in lower case, spaced": lambda d: d.replace(
        b"<Suggest To A Friend>", b"  < suggest to a friend >  "
    ),
    "CR only, no footer": lambda d: _cr(d.removesuffix(FOOTER)),
}


@pytest.mark.parametrize("variant", SEED_VARIANTS.values(), ids=SEED_VARIANTS.keys())
def test_seed_variants_read_the_same(variant, settings):
    expected = parse_release(SEED_NAME, SEED, settings)
    data = variant(SEED)
    assert data != SEED or variant is SEED_VARIANTS["as published"]

    release = parse_release(SEED_NAME, data, settings)

    assert release.title == SEED_TITLE
    assert release.section == "News & Events"
    assert release.published == SEED_PUBLISHED
    assert release.body_html.count("<p>") == 5
    assert "Suggest" not in release.body_html
    assert "suggest" not in release.body_html
    assert release.body_html == expected.body_html
    assert release.summary == SEED_FIRST_PARAGRAPH
    assert release.id == expected.id


def test_content_hash_follows_the_bytes(settings):
    a = parse_release(SEED_NAME, SEED, settings)
    b = parse_release(SEED_NAME, SEED, settings)
    c = parse_release(SEED_NAME, SEED + b"\n", settings)
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash


def test_content_hash_follows_the_reading_settings(tmp_path):
    a = parse_release(SEED_NAME, SEED, make_settings(tmp_path))
    b = parse_release(SEED_NAME, SEED, make_settings(tmp_path, default_time="10:00"))
    assert a.content_hash != b.content_hash


@pytest.mark.parametrize(
    ("rel", "expected_id"),
    [
        ("2020-09-11-wang-yi.txt", "2020-09-11-wang-yi"),
        ("sub/folder/release_1.v2.txt", "release_1.v2"),
        ("Wang Yi in Moscow!.txt", "wang-yi-in-moscow"),
        ("Zoë Müller.TXT", "zoe-muller"),
    ],
)
def test_id_is_the_file_stem(rel, expected_id, settings):
    release = parse_release(rel, SEED, settings)
    assert release.id == expected_id
    assert release.source == rel


# -- other newsroom layouts ---------------------------------------------------------------


def test_breadcrumb_last_crumb_is_the_section(settings):
    data = b"Home > Newsroom > Speeches & Remarks\nTitle\n\nOn May 1, 2020, the minister spoke.\n"
    release = parse_release("x.txt", data, settings)
    assert release.section == "Speeches & Remarks"
    assert release.title == "Title"


def test_title_white_space_is_squashed(settings):
    data = "Home > News\n  Title \u00a0 with\tgaps  \n\nOn May 1, 2020, x.\n".encode()
    assert parse_release("x.txt", data, settings).title == "Title with gaps"


def test_paragraph_lines_are_kept_inside_one_paragraph(settings):
    data = b"Home > News\nTitle\n\nOn May 1, 2020, the\nminister spoke.\n\nSecond one.\n"
    release = parse_release("x.txt", data, settings)
    assert release.body_html == "<p>On May 1, 2020, the\nminister spoke.</p>\n<p>Second one.</p>"
    assert release.summary == "On May 1, 2020, the minister spoke."


@pytest.mark.parametrize(
    ("first_paragraph", "expected"),
    [
        ("On 11 September 2020, the minister spoke.", dt.date(2020, 9, 11)),
        ("September 11, 2020 — The minister spoke.", dt.date(2020, 9, 11)),
        ("(Moscow, September 11, 2020) The minister spoke.", dt.date(2020, 9, 11)),
        ("MOSCOW, Sept. 11, 2020 -- The minister spoke.", dt.date(2020, 9, 11)),
        ("BEIJING\nOn 1 March 2021, the minister spoke.", dt.date(2021, 3, 1)),
    ],
)
def test_dateline_gives_the_date_at_default_time(first_paragraph, expected, settings):
    data = f"Home > News\nTitle\n\n{first_paragraph}\n".encode()
    release = parse_release("x.txt", data, settings)
    assert release.published == dt.datetime.combine(expected, dt.time(9, 0), tzinfo=SHANGHAI)


# -- escaping -------------------------------------------------------------------------------


def test_markup_characters_stay_text(settings):
    data = (
        b'Home > Q&A "Desk"\n'
        b'Q&A: 1 < 2 > 0, "quoted" & <b>bold</b>\n'
        b"\n"
        b'On May 1, 2020, Tom & Jerry said 1 < 2 > 0 and "yes".\n'
        b"\n"
        b"<script>alert('x')</script> &amp; <a href=\"javascript:alert(1)\">click</a>\n"
    )

    release = parse_release("x.txt", data, settings)

    assert release.title == 'Q&A: 1 < 2 > 0, "quoted" & <b>bold</b>'
    assert release.section == 'Q&A "Desk"'
    assert release.summary == 'On May 1, 2020, Tom & Jerry said 1 < 2 > 0 and "yes".'
    assert release.body_html == (
        '<p>On May 1, 2020, Tom &amp; Jerry said 1 &lt; 2 &gt; 0 and "yes".</p>\n'
        "<p>&lt;script&gt;alert('x')&lt;/script&gt; &amp;amp; "
        '&lt;a href="javascript:alert(1)"&gt;click&lt;/a&gt;</p>'
    )
    assert "<script" not in release.body_html
    assert "<a " not in release.body_html


# -- errors: path:line: message ---------------------------------------------------------------

NO_DATE = (
    "no date: expected a dateline at the start of the first paragraph "
    "(e.g. 'On September 11, 2020, ...') or 'date' in front matter"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"", "x.txt:1: empty file: expected a release", id="empty"),
        pytest.param(b"\xef\xbb\xbf", "x.txt:1: empty file: expected a release", id="BOM only"),
        pytest.param(
            " \n\t\r\n\r\n\u00a0\n   ".encode(),
            "x.txt:1: empty file: expected a release",
            id="white space only",
        ),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "x.txt:1: not UTF-8 text (byte 0x89 at offset 0)",
            id="binary",
        ),
        pytest.param(
            b"\xff\xfeH\x00o\x00m\x00e\x00",
            "x.txt:1: not UTF-8 text (byte 0xff at offset 0)",
            id="UTF-16",
        ),
        pytest.param(
            b"Home > News\nTitle\n\nOn May 1, 2020, caf\xe9 talks.\n",
            "x.txt:4: not UTF-8 text (byte 0xe9 at offset 38)",
            id="Latin-1 byte on line 4",
        ),
        pytest.param(
            b"Home > News\r\nTitle\r\n\r\nOn May 1, 2020, caf\xe9 talks.\r\n",
            "x.txt:4: not UTF-8 text (byte 0xe9 at offset 41)",
            id="Latin-1 byte on line 4, CRLF",
        ),
        pytest.param(
            b"Home > News\rTitle\r\rOn May 1, 2020, caf\xe9 talks.\r",
            "x.txt:4: not UTF-8 text (byte 0xe9 at offset 38)",
            id="Latin-1 byte on line 4, CR",
        ),
        pytest.param(
            b"Home > News\nTitle\n\nOn May 1, 2020, \xe2\x80 truncated.\n",
            "x.txt:4: not UTF-8 text (byte 0xe2 at offset 35)",
            id="truncated sequence",
        ),
        pytest.param(
            b"Home > News\nTitle\x00\n\nOn May 1, 2020, x.\n",
            "x.txt:2: not a text file (contains NUL bytes)",
            id="NUL on line 2",
        ),
        pytest.param(
            b"Home > News\r\rTitle\r\x00",
            "x.txt:4: not a text file (contains NUL bytes)",
            id="NUL on line 4, CR",
        ),
        pytest.param(
            b"\x00",
            "x.txt:1: not a text file (contains NUL bytes)",
            id="only a NUL",
        ),
        pytest.param(
            b"Home > News\n\nOn May 1, 2020, x.\n",
            "x.txt:2: no title: expected the title on the line after the breadcrumb",
            id="no title",
        ),
        pytest.param(
            b"Home > News",
            "x.txt:2: no title: expected the title on the line after the breadcrumb",
            id="breadcrumb only",
        ),
        pytest.param(
            b"\n\nJust a title\n\nOn May 1, 2020, x.\n",
            "x.txt:3: expected a breadcrumb such as 'Home > News & Events', found 'Just a title'",
            id="no breadcrumb",
        ),
        pytest.param(
            ("A" * 70 + "\n\nOn May 1, 2020, x.\n").encode(),
            "x.txt:1: expected a breadcrumb such as 'Home > News & Events', found '"
            + "A" * 57
            + "...'",
            id="no breadcrumb, long line",
        ),
        pytest.param(
            b"Home > News\nTitle\n",
            "x.txt:3: no body: expected paragraphs separated by blank lines after the title",
            id="no body",
        ),
        pytest.param(
            b"Home > News\nTitle\n\n\n<Suggest To A Friend>",
            "x.txt:3: no body: expected paragraphs separated by blank lines after the title",
            id="footer only",
        ),
        pytest.param(
            b"Home > News\nTitle\n\nThe minister spoke.\n\nOn May 1, 2020, he left.\n",
            f"x.txt:4: {NO_DATE}",
            id="no date (a date in a later paragraph is no dateline)",
        ),
        pytest.param(
            b"Home > News\nTitle\n\n\n\nThe minister spoke.\n",
            f"x.txt:6: {NO_DATE}",
            id="no date after blank lines",
        ),
        pytest.param(
            b"Home > News\nTitle\n\nOn February 30, 2021, the minister spoke.\n",
            "x.txt:4: impossible date 'February 30, 2021': day is out of range for month",
            id="February 30",
        ),
        pytest.param(
            b"Home > News\r\nTitle\r\n\r\n\r\nMOSCOW\r\nOn 31 April 2021, the minister spoke.\r\n",
            "x.txt:6: impossible date '31 April 2021': day is out of range for month",
            id="31 April on the paragraph's second line, CRLF",
        ),
        pytest.param(
            b"Home > News\nTitle\n\nOn 2020-13-01, the minister spoke.\n",
            "x.txt:4: impossible date '2020-13-01': month must be in 1..12",
            id="month 13",
        ),
    ],
)
def test_broken_file_errors(data, expected, settings):
    assert read_error("x.txt", data, settings) == expected


@pytest.mark.parametrize("style", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no BOM", "BOM"])
def test_seed_with_impossible_date_names_line_5(style, bom, settings):
    data = SEED.replace(b"On September 11, 2020,", b"On February 30, 2021,")
    data = bom + data.replace(b"\n", style.encode())
    assert read_error(SEED_NAME, data, settings) == (
        f"{SEED_NAME}:5: impossible date 'February 30, 2021': day is out of range for month"
    )


@pytest.mark.parametrize("style", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_seed_with_a_bad_byte_names_its_line(style, settings):
    data = SEED.replace(b"Wang Yi said,", b"Wang Yi said\xa0,").replace(b"\n", style.encode())
    offset = data.index(b"\xa0,")
    assert read_error(SEED_NAME, data, settings) == (
        f"{SEED_NAME}:7: not UTF-8 text (byte 0xa0 at offset {offset})"
    )


def test_bad_byte_offset_counts_the_bom(settings):
    data = b"\xef\xbb\xbfHome > News\nT\xff\n"
    assert read_error("x.txt", data, settings) == "x.txt:2: not UTF-8 text (byte 0xff at offset 16)"


def test_bad_byte_line_with_mixed_newlines(settings):
    data = b"Home > News\r\nTitle\r\rOn May 1, 2020, caf\xe9.\r\n"
    assert read_error("x.txt", data, settings).startswith("x.txt:4: not UTF-8 text")


@pytest.mark.parametrize(
    ("max_bytes", "expected"),
    [
        (100, f"{SEED_NAME}:1: file is 2,706 bytes; the limit (items.max_bytes) is 100"),
        (2705, f"{SEED_NAME}:1: file is 2,706 bytes; the limit (items.max_bytes) is 2,705"),
    ],
)
def test_oversize_file(max_bytes, expected, tmp_path):
    assert len(SEED) == 2706
    assert read_error(SEED_NAME, SEED, make_settings(tmp_path, max_bytes=max_bytes)) == expected


def test_file_of_exactly_max_bytes_is_read(tmp_path):
    release = parse_release(SEED_NAME, SEED, make_settings(tmp_path, max_bytes=len(SEED)))
    assert release.title == SEED_TITLE


def test_oversize_is_checked_before_decoding(tmp_path):
    # An oversize binary file says it is too big, not that it is binary: the size is the
    # first thing wrong with it and costs nothing to check.
    settings = make_settings(tmp_path, max_bytes=10)
    assert read_error("x.txt", b"\xff" * 11, settings) == (
        "x.txt:1: file is 11 bytes; the limit (items.max_bytes) is 10"
    )


def test_unknown_file_kind(settings):
    assert read_error("x.rst", SEED, settings) == (
        "x.rst:1: no reader for this kind of file (known: .txt, .md, .markdown)"
    )


def test_error_carries_path_line_and_message(settings):
    with pytest.raises(ReleaseError) as caught:
        parse_release("sub/x.txt", b"Home > News\n\nx\n", settings)
    assert (caught.value.path, caught.value.line, caught.value.message) == (
        "sub/x.txt",
        2,
        "no title: expected the title on the line after the breadcrumb",
    )


def test_footer_right_under_the_last_paragraph_is_not_body_text(settings):
    data = SEED.replace(FOOTER, b"\n<Suggest To A Friend>")
    release = parse_release(SEED_NAME, data, settings)
    assert "Suggest" not in release.body_html


def test_breadcrumb_regex_does_not_backtrack_exponentially():
    program = textwrap.dedent(
        """
        from pathlib import Path
        from feedsvc.config import settings_from_dict
        from feedsvc.errors import ReleaseError
        from feedsvc.reading import parse_release
        settings = settings_from_dict({}, root=Path("."))
        line = "Home" + "  >  News" * 40 + " <"
        try:
            parse_release("x.txt", (line + "\\nT\\n\\nOn May 1, 2020, x.\\n").encode(), settings)
        except ReleaseError as e:
            print(e.line)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=3, check=True
    )
    assert done.stdout == "1\n"


# -- the summary cut ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short text.", 300, "Short text."),
        ("Exactly ten", 11, "Exactly ten"),
        ("", 5, ""),
        (SEED_FIRST_PARAGRAPH, 50, "On September 11, 2020, local time, State…"),
        (SEED_FIRST_PARAGRAPH, 60, "On September 11, 2020, local time, State Councilor and…"),
        (SEED_FIRST_PARAGRAPH, len(SEED_FIRST_PARAGRAPH), SEED_FIRST_PARAGRAPH),
        (
            SEED_FIRST_PARAGRAPH,
            len(SEED_FIRST_PARAGRAPH) - 1,
            SEED_FIRST_PARAGRAPH.removesuffix(" Moscow.") + "…",
        ),
        # Punctuation left dangling at the cut goes.
        ("Talks held — in Moscow, today", 16, "Talks held…"),
        ("Moscow, Beijing; Paris: Rome", 17, "Moscow, Beijing…"),
        # A word longer than half the limit is cut inside the word rather than lost.
        ("Supercalifragilisticexpialidocious word", 20, "Supercalifragilisti…"),
        ("abcdef", 1, "…"),
    ],
)
def test_cut_summary(text, limit, expected):
    out = cut_summary(text, limit)
    assert out == expected
    assert len(out) <= limit


def test_seed_summary_is_cut_at_the_configured_length(tmp_path):
    settings = settings_from_dict(
        {
            "items": {"dir": str(tmp_path)},
            "site": {"timezone": "Asia/Shanghai"},
            "feeds": {"summary_chars": 60},
        },
        root=tmp_path,
    )
    release = parse_release(SEED_NAME, SEED, settings)
    assert release.summary == "On September 11, 2020, local time, State Councilor and…"
    assert release.body_html.startswith(f"<p>{SEED_FIRST_PARAGRAPH}</p>")
