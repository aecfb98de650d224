"""The Markdown reader (.md): markdown-it-py rendering, nh3 sanitising, the '# Title' line,
the dateline, and the errors a broken Markdown release gets."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.reading.helpers import read, read_error

SHANGHAI = ZoneInfo("Asia/Shanghai")
FM = "---\nsection: News\n---\n"  # the least front matter a Markdown release needs


def test_title_line_date_from_dateline(settings):
    release = read(
        FM + "# Talks in Moscow\n\nOn September 11, 2020, the ministers met.\n\nSecond.\n",
        settings,
    )
    assert release.title == "Talks in Moscow"
    assert release.section == "News"
    assert release.published == dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)
    assert release.body_html == "<p>On September 11, 2020, the ministers met.</p>\n<p>Second.</p>"
    assert release.summary == "On September 11, 2020, the ministers met."
    assert release.id == "x"
    assert release.language == "en"


@pytest.mark.parametrize("rel", ["x.md", "x.markdown", "X.MD", "sub/x.Markdown"])
def test_markdown_file_endings(rel, settings):
    release = read(FM + "# T\n\nOn May 1, 2020, x.\n", settings, rel=rel)
    assert release.title == "T"
    assert release.body_html == "<p>On May 1, 2020, x.</p>"
    assert release.source == rel


def test_setext_heading_is_a_title(settings):
    release = read(FM + "Talks in Moscow\n===============\n\nOn May 1, 2020, x.\n", settings)
    assert release.title == "Talks in Moscow"
    assert "<h1>" not in release.body_html


def test_title_line_markup_is_plain_text(settings):
    release = read(
        FM + "# Talks *in* `Moscow` &amp; \\*Beijing\\*\n\nOn May 1, 2020, x.\n", settings
    )
    assert release.title == "Talks in Moscow & *Beijing*"


def test_front_matter_title_keeps_the_heading_in_the_body(settings):
    release = read(
        "---\ntitle: From front matter\nsection: News\n---\n# Heading\n\nOn May 1, 2020, x.\n",
        settings,
    )
    assert release.title == "From front matter"
    assert release.body_html == "<h1>Heading</h1>\n<p>On May 1, 2020, x.</p>"


def test_second_level_heading_is_not_a_title(settings):
    assert read_error(FM + "## Not a title\n\nOn May 1, 2020, x.\n", settings) == (
        "x.md:4: no title: expected a 'title' in front matter or a '# Title' first line"
    )


def test_dateline_on_the_first_paragraphs_later_line(settings):
    release = read(FM + "# T\n\nMOSCOW\n11 September 2020 -- talks.\n", settings)
    assert release.published == dt.datetime(2020, 9, 11, 9, 0, tzinfo=SHANGHAI)
    assert release.summary == "MOSCOW 11 September 2020 -- talks."


def test_front_matter_date_wins_over_the_dateline(settings):
    release = read(
        "---\nsection: News\ndate: 2021-01-02\n---\n# T\n\nOn February 30, 2021, x.\n", settings
    )
    assert release.published == dt.datetime(2021, 1, 2, 9, 0, tzinfo=SHANGHAI)


def test_rendering(settings):
    release = read(
        FM
        + "# T\n\nOn May 1, 2020, *em* **strong** `code` ~~gone~~.\n\n"
        + "- one\n- two\n\n"
        + "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        + "[link](https://example.org/a?b=1&c=2) <mailto:press@example.org>\n",
        settings,
    )
    assert release.body_html == (
        "<p>On May 1, 2020, <em>em</em> <strong>strong</strong> <code>code</code> <s>gone</s>."
        "</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n"
        '<p><a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">link</a> '
        '<a href="mailto:press@example.org" rel="noopener noreferrer">mailto:press@example.org</a></p>'
    )
    assert release.summary == "On May 1, 2020, em strong code gone."


# -- escaping and sanitising ----------------------------------------------------------------


def test_markup_characters_stay_text(settings):
    release = read(
        FM + '# Q&A: 1 < 2 > 0 "quoted"\n\nOn May 1, 2020, Tom & Jerry said 1 < 2 > 0 "yes".\n',
        settings,
    )
    assert release.title == 'Q&A: 1 < 2 > 0 "quoted"'
    assert release.body_html == '<p>On May 1, 2020, Tom &amp; Jerry said 1 &lt; 2 &gt; 0 "yes".</p>'
    assert release.summary == 'On May 1, 2020, Tom & Jerry said 1 < 2 > 0 "yes".'


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        pytest.param(
            "Before <script>alert(1)</script> after.",
            "<p>Before  after.</p>",
            id="inline script",
        ),
        pytest.param(
            "<script>\nalert(1)\n</script>\n\nAfter.",
            "<p>After.</p>",
            id="script block",
        ),
        pytest.param(
            "<style>p { color: red }</style>\n\nAfter.",
            "<p>After.</p>",
            id="style block",
        ),
        pytest.param(
            '<iframe src="https://evil.example/"></iframe>\n\nAfter.',
            "<p>After.</p>",
            id="iframe",
        ),
        pytest.param(
            "[click](javascript:alert(1))",
            "<p>[click](javascript:alert(1))</p>",
            id="javascript: Markdown link",
        ),
        pytest.param(
            "[click](JavaScript:alert(1))",
            "<p>[click](JavaScript:alert(1))</p>",
            id="JavaScript: Markdown link",
        ),
        pytest.param(
            "<javascript:alert(1)>",
            "<p>&lt;javascript:alert(1)&gt;</p>",
            id="javascript: autolink",
        ),
        pytest.param(
            '<a href="javascript:alert(1)" onclick="alert(2)">click</a>',
            '<p><a rel="noopener noreferrer">click</a></p>',
            id="javascript: raw link",
        ),
        pytest.param(
            '<img src="x.png" onerror="alert(1)" alt="x">',
            '<img src="x.png" alt="x">',
            id="event handler attribute",
        ),
        pytest.param(
            "[data](data:text/html;base64,PHNjcmlwdD4=)",
            "<p>[data](data:text/html;base64,PHNjcmlwdD4=)</p>",
            id="data: link",
        ),
        pytest.param(
            '<a href="ftp://example.org/x">ftp</a>',
            '<p><a rel="noopener noreferrer">ftp</a></p>',
            id="scheme outside the allow list",
        ),
        pytest.param(
            '<a href="tel:+8610123">call</a>',
            '<p><a href="tel:+8610123" rel="noopener noreferrer">call</a></p>',
            id="tel: link kept",
        ),
        pytest.param(
            '<figure><img src="a.png" alt="A"><figcaption>Cap</figcaption></figure>',
            '<figure><img src="a.png" alt="A"><figcaption>Cap</figcaption></figure>',
            id="figure kept",
        ),
    ],
)
def test_sanitising(markdown, expected, settings):
    release = read("---\ntitle: T\nsection: News\ndate: 2020-05-01\n---\n" + markdown, settings)
    assert release.body_html == expected
    assert 'href="javascript' not in release.body_html.lower()
    assert "<script" not in release.body_html
    assert "onerror" not in release.body_html
    assert "onclick" not in release.body_html


def test_summary_has_no_script_source(settings):
    release = read(FM + "# T\n\nOn May 1, 2020, hi <script>alert(1)</script> there.\n", settings)
    assert "alert" not in release.summary


# -- errors ---------------------------------------------------------------------------------

NO_DATE = (
    "no date: expected a dateline at the start of the first paragraph "
    "(e.g. 'On September 11, 2020, ...') or 'date' in front matter"
)
NO_TITLE = "no title: expected a 'title' in front matter or a '# Title' first line"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# Talks\n\nOn May 1, 2020, x.\n",
            "x.md:1: no section: expected a breadcrumb or 'section' in front matter",
            id="no section",
        ),
        pytest.param(FM + "Just text.\n", f"x.md:4: {NO_TITLE}", id="no title"),
        pytest.param(FM + "# \n\nOn May 1, 2020, x.\n", f"x.md:4: {NO_TITLE}", id="empty title"),
        pytest.param(FM + "# T\n\nNo dateline.\n", f"x.md:6: {NO_DATE}", id="no date"),
        pytest.param(
            FM + "# T\n\n\n\nNo dateline.\n", f"x.md:8: {NO_DATE}", id="no date, blank lines"
        ),
        pytest.param(FM + "# T\n", "x.md:4: no body: the release has no text", id="title only"),
        pytest.param(
            FM + "# T\n\nOn February 30, 2021, x.\n",
            "x.md:6: impossible date 'February 30, 2021': day is out of range for month",
            id="February 30",
        ),
        pytest.param(
            FM + "# T\n\nMOSCOW\nOn 31 April 2021, x.\n",
            "x.md:7: impossible date '31 April 2021': day is out of range for month",
            id="31 April on the paragraph's second line",
        ),
        pytest.param(
            "---\ntitle: T\nsection: News\ndate: 2020-05-01\n---\n\n\n",
            "x.md:6: no body: the release has no text",
            id="no body",
        ),
        pytest.param(
            "---\ntitle: T\nsection: News\ndate: 2020-05-01\n---\n<script>alert(1)</script>\n",
            "x.md:6: no body: the release has no text",
            id="body only a script",
        ),
        pytest.param(
            "---\nsection: News\ndate: 2020-05-01\n---\n# T\n",
            "x.md:5: no body: the release has no text",
            id="title only, date in front matter",
        ),
        pytest.param(
            "\r\n".join(["---", "section: News", "---", "# T", "", "On 2021-02-29, x."]),
            "x.md:6: impossible date '2021-02-29': day is out of range for month",
            id="CRLF",
        ),
        pytest.param(
            "\ufeff" + "\r".join(["---", "section: News", "---", "# T", "", "No dateline."]),
            f"x.md:6: {NO_DATE}",
            id="BOM and CR",
        ),
    ],
)
def test_broken_markdown(text, expected, settings):
    assert read_error(text, settings) == expected


def test_no_title_names_the_first_line_of_text(settings):
    assert read_error(FM + "\n\nJust text.\n", settings) == f"x.md:6: {NO_TITLE}"


def test_a_leading_heading_that_repeats_the_front_matter_title_is_dropped(settings):
    release = read(
        "---\ntitle: Talks  in Moscow\nsection: News\n---\n"
        "# Talks in *moscow*\n\nOn May 1, 2020, x.\n\n# Talks in Moscow\n",
        settings,
    )
    assert release.title == "Talks in Moscow"
    assert release.body_html == "<p>On May 1, 2020, x.</p>\n<h1>Talks in Moscow</h1>"
    assert release.published == dt.datetime(2020, 5, 1, 9, 0, tzinfo=SHANGHAI)


def test_a_leading_heading_of_another_text_or_level_is_kept(settings):
    fm = "---\ntitle: Talks in Moscow\nsection: News\n---\n"
    release = read(fm + "## Talks in Moscow\n\nOn May 1, 2020, x.\n", settings)
    assert release.body_html == "<h2>Talks in Moscow</h2>\n<p>On May 1, 2020, x.</p>"
    release = read(fm + "# Talks in Moscow, day two\n\nOn May 1, 2020, x.\n", settings)
    assert release.body_html.startswith("<h1>Talks in Moscow, day two</h1>")
