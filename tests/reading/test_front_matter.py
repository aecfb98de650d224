"""Front matter (TOML between '+++', YAML between '---') on Markdown and newsroom text files:
what each key sets, how dates and times get their zone, and the errors, each with its line."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedsvc.config import settings_from_dict
from feedsvc.reading import parse_release
from tests.reading.helpers import make_settings, read, read_error

REPO = Path(__file__).resolve().parents[2]
SEED_NAME = "2020-09-11-wang-yi-china-russia-stability.txt"
SEED = (REPO / "items" / SEED_NAME).read_bytes()
SEED_TITLE = (
    "Wang Yi: China and Russia Are Key Forces of Stability in Turbulent International Situation"
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
MINUS5 = dt.timezone(dt.timedelta(hours=-5))
KEYS = (
    "id, title, date, section, language, tags, summary, author, publish_at, updated, image, "
    "attachments, translation_key, change_note, contact, notes_to_editors"
)


TOML_ALL = """\
+++
id = "briefing-2021-03-02"
title = "Regular  Press\tConference"
section = "Press Conferences"
date = 2021-03-02T15:00:00+08:00
language = "zh-Hans-CN"
tags = ["briefing", "Asia", "briefing", " trade  policy "]
summary = "The spokesperson took questions."
author = "Spokesperson's Office"
publish_at = 2021-03-02T16:00:00Z
updated = 2021-03-03T08:00:00
+++
# A heading kept in the body

On February 30, 2021, the dateline is not read: the front matter has a date.
"""

YAML_ALL = """\
---
id: briefing-2021-03-02
title: |
  Regular  Press
  Conference
section: Press Conferences
date: 2021-03-02T15:00:00+08:00
language: zh-Hans-CN
tags:
  - briefing
  - Asia
  - briefing
  - " trade  policy "
summary: The spokesperson took questions.
author: Spokesperson's Office
publish_at: 2021-03-02T16:00:00Z
updated: 2021-03-03 08:00:00
---
# A heading kept in the body

On February 30, 2021, the dateline is not read: the front matter has a date.
"""


@pytest.mark.parametrize("text", [TOML_ALL, YAML_ALL], ids=["TOML", "YAML"])
def test_every_key(text, tmp_path):
    settings = make_settings(tmp_path, {"zh-Hans-CN": {}})  # issue 15: a configured language
    release = read(text, settings, rel="2021/file-name.md")

    assert release.id == "briefing-2021-03-02"
    assert release.title == "Regular Press Conference"
    assert release.section == "Press Conferences"
    assert release.published == dt.datetime(2021, 3, 2, 15, 0, tzinfo=SHANGHAI)
    assert release.published.utcoffset() == dt.timedelta(hours=8)
    assert release.language == "zh-Hans-CN"
    assert release.tags == ("briefing", "Asia", "trade policy")
    assert release.summary == "The spokesperson took questions."
    assert release.author == "Spokesperson's Office"
    assert release.publish_at == dt.datetime(2021, 3, 2, 16, 0, tzinfo=UTC)
    assert release.publish_at.utcoffset() == dt.timedelta(0)
    assert release.updated == dt.datetime(2021, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert release.updated.tzinfo == SHANGHAI
    assert release.source == "2021/file-name.md"
    assert release.body_html == (
        "<h1>A heading kept in the body</h1>\n"
        "<p>On February 30, 2021, the dateline is not read: the front matter has a date.</p>"
    )


@pytest.mark.parametrize(
    "fences", [("+++", "+++"), ("---", "---"), ("+++  ", "+++\t"), ("---\t", "--- ")]
)
def test_empty_front_matter(fences, settings):
    opening, closing = fences
    release = read(
        f"{opening}\n{closing}\nHome > News\nT\n\nOn May 1, 2020, x.\n", settings, "x.txt"
    )
    assert (release.title, release.section) == ("T", "News")
    assert release.published == dt.datetime(2020, 5, 1, 9, 0, tzinfo=SHANGHAI)
    assert release.body_html == "<p>On May 1, 2020, x.</p>"


def test_empty_front_matter_still_needs_a_section(settings):
    assert read_error("+++\n+++\n# T\n\nOn May 1, 2020, x.\n", settings) == (
        "x.md:3: no section: expected a breadcrumb or 'section' in front matter"
    )


# -- dates and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # With a zone: kept as written.
        ("date = 2020-09-11T10:30:00+02:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=PLUS2)),
        ("date = 2020-09-11T10:30:00Z", dt.datetime(2020, 9, 11, 10, 30, tzinfo=UTC)),
        ("date = 2020-09-11 10:30:00-05:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=MINUS5)),
        ('date = "2020-09-11T10:30:00+02:00"', dt.datetime(2020, 9, 11, 10, 30, tzinfo=PLUS2)),
        ("date: 2020-09-11T10:30:00+02:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=PLUS2)),
        ("date: 2020-09-11T08:30:00Z", dt.datetime(2020, 9, 11, 8, 30, tzinfo=UTC)),
        ("date: '2020-09-11T10:30:00+02:00'", dt.datetime(2020, 9, 11, 10, 30, tzinfo=PLUS2)),
        # Naive: the site's zone.
        ("date = 2020-09-11T10:30:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=SHANGHAI)),
        ('date = "2020-09-11 10:30"', dt.datetime(2020, 9, 11, 10, 30, tzinfo=SHANGHAI)),
        ("date: 2020-09-11 10:30:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=SHANGHAI)),
        ("date: 2020-09-11T10:30:00", dt.datetime(2020, 9, 11, 10, 30, tzinfo=SHANGHAI)),
        # A bare date: items.default_time in the site's zone.
        ("date = 2020-09-11", dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)),
        ("date: 2020-09-11", dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)),
    ],
)
@pytest.mark.parametrize("key", ["date", "publish_at", "updated"])
def test_datetimes(line, expected, key, settings):
    fence = "+++" if " = " in line else "---"
    head = (
        "title = 'T'\nsection = 'S'\ndate = 2000-01-01"
        if fence == "+++"
        else "title: T\nsection: S\ndate: 2000-01-01"
    )
    line = line.replace("date", key, 1)
    if key == "date":
        head = head.rsplit("\n", 1)[0]
    release = read(f"{fence}\n{head}\n{line}\n{fence}\nBody.\n", settings)

    value = getattr(release, "published" if key == "date" else key)
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()
    assert value.tzinfo is not None


def test_naive_datetime_takes_the_zones_offset_on_that_day(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path)}, "site": {"timezone": "Europe/Berlin"}}, root=tmp_path
    )
    winter = read("---\ntitle: T\nsection: S\ndate: 2021-01-15 12:00\n---\nx\n", settings)
    summer = read("---\ntitle: T\nsection: S\ndate: 2021-07-15 12:00\n---\nx\n", settings)
    assert winter.published.utcoffset() == dt.timedelta(hours=1)
    assert summer.published.utcoffset() == dt.timedelta(hours=2)


def test_bare_date_takes_the_configured_default_time(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path), "default_time": "17:45"}, "site": {"timezone": "UTC"}},
        root=tmp_path,
    )
    release = read("+++\ntitle = 'T'\nsection = 'S'\ndate = 2020-09-11\n+++\nx\n", settings)
    assert release.published == dt.datetime(2020, 9, 11, 17, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "+++\ntitle = 'T'\nsection = 'S'\ndate = '2020-09-11'\n+++\nx\n",
        "---\ntitle: T\nsection: S\ndate: '2020-09-11'\n---\nx\n",
    ],
    ids=["TOML string", "YAML quoted"],
)
def test_bare_date_as_text_takes_the_default_time(text, settings):
    assert read(text, settings).published == dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)


# -- tags and text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tags = []", ()),
        ("tags = ['a', 'b']", ("a", "b")),
        ("tags = ['b', 'a', 'b']", ("b", "a")),
        ("tags = 'trade, energy ,, trade'", ("trade", "energy")),
        ("tags = ['  two\twords  ', '', ' ']", ("two words",)),
        ("tags: [a, b]", ("a", "b")),
        ("tags: Climate Policy", ("Climate Policy",)),
        ("tags: ['北京', 'Zoë']", ("北京", "Zoë")),
    ],
)
def test_tags(line, expected, settings):
    fence = "+++" if " = " in line else "---"
    sep = " = " if fence == "+++" else ": "
    head = f"title{sep}'T'\nsection{sep}'S'\ndate{sep}2020-01-01"
    release = read(f"{fence}\n{head}\n{line}\n{fence}\nx\n", settings)
    assert release.tags == expected


def test_summary_from_front_matter_is_not_cut(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path)}, "feeds": {"summary_chars": 10}}, root=tmp_path
    )
    release = read(
        "---\ntitle: T\nsection: S\ndate: 2020-01-01\nsummary: A long summary  of the release\n"
        "---\nA long first paragraph of the release.\n",
        settings,
    )
    assert release.summary == "A long summary of the release"


def test_summary_from_the_first_paragraph_is_cut(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path)}, "feeds": {"summary_chars": 20}}, root=tmp_path
    )
    release = read(
        "---\ntitle: T\nsection: S\ndate: 2020-01-01\n---\nA long first paragraph of the release.\n",
        settings,
    )
    assert release.summary == "A long first…"


@pytest.mark.parametrize(
    ("language", "configured", "stored"),
    [
        ("fr", "fr", "fr"),
        ("en-GB", "en-gb", "en-GB"),
        ("zh-Hans-CN", "zh-Hans-CN", "zh-Hans-CN"),
        ("yue", "YUE", "yue"),
        ("EN-us", "en-US", "en-US"),  # issue 15: stored as configured, canonical
    ],
)
def test_language(language, configured, stored, tmp_path):
    settings = make_settings(tmp_path, {configured: {}})
    release = read(
        f"---\ntitle: T\nsection: S\ndate: 2020-01-01\nlanguage: {language}\n---\nx\n", settings
    )
    assert release.language == stored


def test_language_defaults_to_the_site_language(tmp_path):
    settings = settings_from_dict(
        {"items": {"dir": str(tmp_path)}, "site": {"language": "de-AT"}}, root=tmp_path
    )
    release = read("---\ntitle: T\nsection: S\ndate: 2020-01-01\n---\nx\n", settings)
    assert release.language == "de-AT"


@pytest.mark.parametrize("release_id", ["a", "A.b_c-1", "2020-09-11", "x" * 200])
def test_good_ids(release_id, settings):
    release = read(
        f"---\nid: '{release_id}'\ntitle: T\nsection: S\ndate: 2020-01-01\n---\nx\n", settings
    )
    assert release.id == release_id


# -- front matter on a newsroom text file -----------------------------------------------------


@pytest.mark.parametrize(
    "front_matter",
    [
        "+++\n"
        'id = "moscow-press-meeting"\n'
        'title = "Wang Yi Meets the Press in Moscow"\n'
        'section = "Diplomacy"\n'
        "date = 2020-09-12T18:30:00+03:00\n"
        "+++\n",
        "---\n"
        "id: moscow-press-meeting\n"
        "title: Wang Yi Meets the Press in Moscow\n"
        "section: Diplomacy\n"
        "date: 2020-09-12T18:30:00+03:00\n"
        "---\n",
    ],
    ids=["TOML", "YAML"],
)
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_front_matter_overrides_the_newsroom_text(front_matter, newline, settings):
    data = (front_matter.encode() + SEED).replace(b"\n", newline)
    plain = parse_release(SEED_NAME, SEED, settings)

    release = parse_release(SEED_NAME, data, settings)

    assert release.id == "moscow-press-meeting"
    assert release.title == "Wang Yi Meets the Press in Moscow"
    assert release.section == "Diplomacy"
    assert release.published == dt.datetime(
        2020, 9, 12, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))
    )
    assert release.body_html == plain.body_html
    assert release.body_html.count("<p>") == 5
    assert release.summary == plain.summary


def test_front_matter_sets_tags_and_author_on_newsroom_text(settings):
    data = b"+++\ntags = ['Russia', 'China']\nauthor = 'MFA'\n+++\n" + SEED
    release = parse_release(SEED_NAME, data, settings)
    assert release.tags == ("Russia", "China")
    assert release.author == "MFA"
    # What the front matter does not set still comes from the text.
    assert release.title == SEED_TITLE
    assert release.section == "News & Events"
    assert release.published == dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)
    assert release.id == "2020-09-11-wang-yi-china-russia-stability"


def test_front_matter_section_replaces_the_breadcrumb(settings):
    data = b"---\nsection: Diplomacy\n---\nA title line\n\nOn May 1, 2020, x.\n\nMore.\n"
    release = parse_release("x.txt", data, settings)
    assert release.section == "Diplomacy"
    assert release.title == "A title line"
    assert release.body_html == "<p>On May 1, 2020, x.</p>\n<p>More.</p>"


def test_front_matter_title_with_no_title_line(settings):
    data = b"---\ntitle: From front matter\n---\nHome > News\n\nOn May 1, 2020, x.\n"
    release = parse_release("x.txt", data, settings)
    assert release.title == "From front matter"
    assert release.body_html == "<p>On May 1, 2020, x.</p>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "---\ntitle: T\n---\nHome > News\nTitle\n\nNo dateline.\n",
            "x.txt:7: no date: expected a dateline at the start of the first paragraph "
            "(e.g. 'On September 11, 2020, ...') or 'date' in front matter",
            id="no date",
        ),
        pytest.param(
            "+++\n+++\n\nHome > News\nTitle\n\nOn 30 February 2021, x.\n",
            "x.txt:7: impossible date '30 February 2021': day is out of range for month",
            id="impossible date",
        ),
        pytest.param(
            "---\ntitle: T\n---\nHome > News\n",
            "x.txt:5: no body: expected paragraphs separated by blank lines after the title",
            id="no title line",
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n\nJust a line\n",
            "x.txt:6: expected a breadcrumb such as 'Home > News & Events', found 'Just a line'",
            id="no breadcrumb",
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n\n",
            "x.txt:4: no text after the front matter",
            id="nothing after the front matter",
        ),
        pytest.param(
            "---\ntitle: T\n---",
            "x.txt:4: no text after the front matter",
            id="front matter only, no final newline",
        ),
    ],
)
def test_newsroom_errors_after_front_matter(text, expected, settings):
    assert read_error(text, settings, rel="x.txt") == expected


# -- errors in the front matter ---------------------------------------------------------------

GOOD_HEAD = "title: T\nsection: S\ndate: 2020-01-01\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "+++\ntitle = 'T'\n\nBody.\n",
            "x.md:1: front matter opened with '+++' is never closed by another '+++'",
            id="unclosed TOML",
        ),
        pytest.param(
            "---\ntitle: T\n\nBody.\n",
            "x.md:1: front matter opened with '---' is never closed by another '---'",
            id="unclosed YAML",
        ),
        pytest.param(
            "+++\ntitle = 'T'\n---\nBody.\n",
            "x.md:1: front matter opened with '+++' is never closed by another '+++'",
            id="closed by the other fence",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nsection = News\n+++\nBody.\n",
            "x.md:3: front matter is not valid TOML: Invalid value",
            id="TOML bare string",
        ),
        pytest.param(
            "+++\ntitle = 'T'\ntitle = 'U'\nsection = 'S'\n+++\nBody.\n",
            "x.md:3: front matter is not valid TOML: Cannot overwrite a value",
            id="TOML duplicate key",
        ),
        pytest.param(
            "+++\n\n\ntitle 'T'\n+++\nBody.\n",
            "x.md:4: front matter is not valid TOML: Expected '=' after a key in a key/value pair",
            id="TOML missing =",
        ),
        pytest.param(
            "+++\r\ntitle = 'T'\r\nsection = 'S'\r\ndate = 2021-02-30\r\n+++\r\nBody.\r\n",
            "x.md:4: front matter is not valid TOML: Invalid date or datetime",
            id="TOML impossible date, CRLF",
        ),
        pytest.param(
            "---\ntitle: T\nsection: News: Events\n---\nBody.\n",
            "x.md:3: front matter is not valid YAML: mapping values are not allowed here",
            id="YAML colon in a value",
        ),
        pytest.param(
            "---\ntitle: T\nsection: [News\n---\nBody.\n",
            "x.md:3: front matter is not valid YAML: expected ',' or ']', but got '<stream end>'",
            id="YAML unclosed list",
        ),
        pytest.param(
            "---\ntitle: T\n\tsection: S\n---\nBody.\n",
            "x.md:3: front matter is not valid YAML: found character '\\t' that cannot start "
            "any token",
            id="YAML tab",
        ),
        pytest.param(
            "---\ntitle: !!python/object:os.system x\n---\nBody.\n",
            "x.md:2: front matter is not valid YAML: could not determine a constructor for the "
            "tag 'tag:yaml.org,2002:python/object:os.system'",
            id="YAML python tag",
        ),
        pytest.param(
            "---\n- title\n- section\n---\nBody.\n",
            "x.md:2: front matter must be a table of keys and values",
            id="YAML list",
        ),
        pytest.param(
            "---\njust words\n---\nBody.\n",
            "x.md:2: front matter must be a table of keys and values",
            id="YAML scalar",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}category: Trade\n---\nBody.\n",
            f"x.md:5: unknown front-matter key 'category'; expected one of: {KEYS}",
            id="unknown key",
        ),
        pytest.param(
            f"---\nzeta: 1\n{GOOD_HEAD}alpha: 2\n---\nBody.\n",
            f"x.md:6: unknown front-matter key 'alpha'; expected one of: {KEYS}",
            id="two unknown keys: the first in order",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nTitle = 'U'\n+++\nBody.\n",
            f"x.md:3: unknown front-matter key 'Title'; expected one of: {KEYS}",
            id="keys are case-sensitive",
        ),
        pytest.param(
            "---\ntitle: T\nsection: S\ndate: next Tuesday\n---\nBody.\n",
            "x.md:4: front-matter 'date' is not a date: 'next Tuesday' "
            "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)",
            id="date in words",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nsection = 'S'\ndate = '11/09/2020'\n+++\nBody.\n",
            "x.md:4: front-matter 'date' is not a date: '11/09/2020' "
            "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)",
            id="date day/month/year",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nsection = 'S'\ndate = '2021-02-30'\n+++\nBody.\n",
            "x.md:4: front-matter 'date' is not a date: '2021-02-30' "
            "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)",
            id="impossible date as text",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nsection = 'S'\ndate = 09:00:00\n+++\nBody.\n",
            "x.md:4: front-matter 'date' must be a date or a date and time",
            id="TOML time only",
        ),
        pytest.param(
            "---\ntitle: T\nsection: S\ndate: [2020, 9, 11]\n---\nBody.\n",
            "x.md:4: front-matter 'date' must be a date or a date and time",
            id="date list",
        ),
        pytest.param(
            "---\ntitle: T\nsection: S\ndate: 20200911\n---\nBody.\n",
            "x.md:4: front-matter 'date' must be a date or a date and time",
            id="date number",
        ),
        pytest.param(
            "---\ntitle: T\nsection: S\ndate: 2020-01-01\npublish_at: tomorrow\n---\nBody.\n",
            "x.md:5: front-matter 'publish_at' is not a date: 'tomorrow' "
            "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)",
            id="publish_at",
        ),
        pytest.param(
            "---\ntitle: T\nsection: S\ndate: 2020-01-01\nupdated: true\n---\nBody.\n",
            "x.md:5: front-matter 'updated' must be a date or a date and time",
            id="updated",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}tags: 5\n---\nBody.\n",
            "x.md:5: front-matter 'tags' must be a list of text",
            id="tags number",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}tags:\n  - trade\n  - 2020\n---\nBody.\n",
            "x.md:5: front-matter 'tags' must be a list of text",
            id="tags with a number",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}tags:\n---\nBody.\n",
            "x.md:5: front-matter 'tags' must be a list of text",
            id="tags empty",
        ),
        pytest.param(
            "+++\ntitle = 'T'\nsection = 'S'\ndate = 2020-01-01\ntags = {a = 1}\n+++\nBody.\n",
            "x.md:5: front-matter 'tags' must be a list of text",
            id="tags table",
        ),
        pytest.param(
            f"---\nid: cafe opens\n{GOOD_HEAD}---\nBody.\n",
            "x.md:2: front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)",
            id="id with a space",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}id: ../secret\n---\nBody.\n",
            "x.md:5: front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)",
            id="id with a slash",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}id: .hidden\n---\nBody.\n",
            "x.md:5: front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)",
            id="id starting with a dot",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}id: {'x' * 201}\n---\nBody.\n",
            "x.md:5: front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)",
            id="id too long",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}id: 42\n---\nBody.\n",
            "x.md:5: front-matter 'id' must be non-empty text",
            id="id number",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}id: ''\n---\nBody.\n",
            "x.md:5: front-matter 'id' must be non-empty text",
            id="id empty",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}language: English\n---\nBody.\n",
            "x.md:5: front-matter 'language' 'English' is not a language tag",
            id="language name",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}language: en_GB\n---\nBody.\n",
            "x.md:5: front-matter 'language' 'en_GB' is not a language tag",
            id="language underscore",
        ),
        pytest.param(
            "---\ntitle: 1984\nsection: S\ndate: 2020-01-01\n---\nBody.\n",
            "x.md:2: front-matter 'title' must be non-empty text",
            id="title number",
        ),
        pytest.param(
            "---\ntitle: '   '\nsection: S\ndate: 2020-01-01\n---\nBody.\n",
            "x.md:2: front-matter 'title' must be non-empty text",
            id="title blank",
        ),
        pytest.param(
            "---\ntitle: T\nsection: [a, b]\ndate: 2020-01-01\n---\nBody.\n",
            "x.md:3: front-matter 'section' must be non-empty text",
            id="section list",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}summary: ''\n---\nBody.\n",
            "x.md:5: front-matter 'summary' must be non-empty text",
            id="summary empty",
        ),
        pytest.param(
            f"---\n{GOOD_HEAD}author: {{name: x}}\n---\nBody.\n",
            "x.md:5: front-matter 'author' must be non-empty text",
            id="author table",
        ),
    ],
)
def test_front_matter_errors(text, expected, settings):
    assert read_error(text, settings) == expected


@pytest.mark.parametrize("rel", ["x.md", "x.txt"])
def test_front_matter_errors_on_either_kind_of_file(rel, settings):
    text = (
        "+++\ntitle = 'T'\nsection = 'S'\ncolour = 'red'\n+++\nHome > S\nT\n\nOn May 1, 2020, x.\n"
    )
    assert read_error(text, settings, rel=rel) == (
        f"{rel}:4: unknown front-matter key 'colour'; expected one of: {KEYS}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "+++\nsection = 'S'\ntitle = 'T\n+++\nBody.\n",
        "+++\nsection = 'S'\ntitle = 'T'\ntitle = 'U'\n+++\nBody.\n",
        "+++\nsection = 'S'\ndate = 2020-01-01\ntags = ['a'\n+++\nBody.\n",
    ],
    ids=["unclosed string", "duplicate key", "unclosed array"],
)
def test_toml_error_at_the_end_names_the_last_line(text, settings):
    error = read_error(text, settings)
    last = text.split("\n").index("+++", 1)
    assert error.startswith(f"x.md:{last}: front matter is not valid TOML:")


def test_unknown_toml_table_names_its_line(settings):
    text = "+++\ntitle = 'T'\n[extra]\nx = 1\n+++\nBody.\n"
    assert read_error(text, settings) == (
        f"x.md:3: unknown front-matter key 'extra'; expected one of: {KEYS}"
    )


@pytest.mark.parametrize(
    "value", ["2021-02-30", "2021-02-03 25:00:00", "2021-13-01"], ids=["Feb 30", "hour 25", "m13"]
)
def test_impossible_yaml_timestamp_is_a_release_error(value, settings):
    assert read_error(f"---\ntitle: T\nsection: S\ndate: {value}\n---\nBody.\n", settings)


@pytest.mark.parametrize(
    "text",
    [
        "+++\ntags = " + "[" * 2000 + "\n+++\nBody.\n",
        "---\ntags: " + "[" * 2000 + "\n---\nBody.\n",
    ],
    ids=["TOML", "YAML"],
)
def test_deeply_nested_front_matter_is_a_release_error(text, settings):
    assert read_error(text, settings)
