"""Awkward titles and summaries reach every reader as the same text (issue 12).

Each format is read back with feedparser, and a value is taken as its format declares it
(or, where RSS declares nothing, as feedparser guesses): text as it is, HTML as the text
it shows.  Every feed also lints clean under the W3C validator's rules (tests/feedlint.py).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from feedsvc.publishing.feed import html_of_text, looks_like_markup
from tests import feedlint
from tests.conftest import Newsroom

# (title, summary): '& < > " \'', text that looks like markup (Markdown and HTML),
# character references written as text, emoji outside the BMP, RTL, CJK.
AWKWARD = [
    ("A&B <b>bold</b>", "A&B <b>bold</b> and <5% of R&D >"),
    ("**Bold** & <b>Tags</b>", "**Bold** & <b>Tags</b> from Markdown"),
    ("Fish & Chips < Pie > \"Tart\" 'Cake'", "Less <5% of R&D > more; AT&T; Q&A"),
    ("Tom &amp; Jerry &lt;3 &#38; &copy &apos;", "Entities &amp; &lt;p&gt; &#x26; &nbsp; as text"),
    ("</p> closes nothing", "<script>alert(1)</script> <!-- no comment --> <![CDATA[ x ]]>"),
    ("Emoji 🎉🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Outside the BMP: 😀 𠜎 𝄞 and a flag 🇺🇳"),
    ("وزارة الخارجية: بيان صحفي", "נוסח עברי עם English inside ו־RTL"),
    ("中华人民共和国外交部 — 新闻稿", "王毅：中俄是动荡国际形势中的稳定力量。「引号」"),
]


class _Text(HTMLParser):
    """The text an HTML fragment shows (what a reader displays for an html value)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.feed(html)
        self.close()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(value: str, detail: dict) -> str:
    """A feedparser value as text, by the type it was read with."""
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return "".join(_Text(value).parts)
    return value


@pytest.fixture
def awkward(newsroom: Newsroom) -> dict:
    for n, (title, summary) in enumerate(AWKWARD):
        front = {"title": title, "summary": summary, "date": f"2021-03-0{n + 1}"}
        # JSON strings are TOML basic strings here: quotes and backslashes escaped.
        head = "".join(
            f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in front.items()
        )
        newsroom.write(f"a{n}.md", f'+++\n{head}section = "Awkward"\n+++\nBody {n}.\n')
    newsroom.ingest()
    return newsroom.documents()


@pytest.mark.parametrize("path", ["feed.xml", "atom.xml"])
def test_every_title_and_summary_reads_back_as_the_same_text(awkward: dict, path: str) -> None:
    parsed = feedparser.parse(awkward[path].body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    read = sorted(
        (shown(e.title, e.title_detail), shown(e.summary, e.summary_detail)) for e in parsed.entries
    )
    assert read == sorted(AWKWARD)


def test_json_feed_title_and_summary_are_plain_text(awkward: dict) -> None:
    # feedparser 6 reads no JSON Feed; JSON Feed 1.1 says title and summary are plain
    # text, so a reader shows them as they are, and content_html is the HTML.
    items = json.loads(awkward["feed.json"].body)["items"]
    assert sorted((i["title"], i["summary"]) for i in items) == sorted(AWKWARD)
    assert all(i["content_html"].startswith("<p>Body ") for i in items)


@pytest.mark.parametrize(
    ("path", "lint"),
    [
        ("feed.xml", feedlint.lint_rss),
        ("atom.xml", feedlint.lint_atom),
        ("feed.json", feedlint.lint_json_feed),
        ("sections/awkward/feed.xml", feedlint.lint_rss),
        ("sections/awkward/atom.xml", feedlint.lint_atom),
    ],
)
def test_awkward_feeds_lint_clean(awkward: dict, path: str, lint) -> None:
    assert lint(awkward[path].body) == []


def test_plain_text_stays_plain_where_a_format_has_types(awkward: dict) -> None:
    atom = feedparser.parse(awkward["atom.xml"].body)
    kinds = {e.title: e.title_detail.type for e in atom.entries}
    assert kinds["中华人民共和国外交部 — 新闻稿"] == "text/plain"
    assert kinds["Fish & Chips < Pie > \"Tart\" 'Cake'"] == "text/plain"
    assert kinds[html_of_text("**Bold** & <b>Tags</b>")] == "text/html"
    body = awkward["feed.xml"].body
    assert b"Fish &#x26; Chips &#x3C; Pie &#x3E;" in body  # RSS Best Practices Profile


def test_rendering_is_byte_stable(newsroom: Newsroom, awkward: dict) -> None:
    again = newsroom.documents()
    for path in ("feed.xml", "atom.xml", "feed.json"):
        assert again[path].body == awkward[path].body


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("plain", False),
        ("A & B", False),
        ("R&D, AT&T", False),
        ("<5% >", False),
        ("a <b> tag", False),
        ("a <b>tag</b>", True),
        ("&amp;", True),
        ("&amp without semicolon", True),
        ("&#38;", True),
        ("&nbsp;", True),
        ("&unknown;", True),
    ],
)
def test_looks_like_markup(text: str, markup: bool) -> None:
    assert looks_like_markup(text) is markup
    assert "".join(_Text(html_of_text(text)).parts) == text


@pytest.mark.parametrize("path", ["feed.xml", "atom.xml"])
def test_the_browser_view_shows_the_same_text(awkward: dict, path: str) -> None:
    """assets/feed.xsl (Firefox, Safari, the static export) shows each title and summary
    as the text that was written: HTML of the text is undone, never rendered."""
    import lxml.html
    from lxml import etree

    from feedsvc.publishing import __file__ as publishing

    stylesheet = Path(publishing).parents[1] / "static" / "feed.xsl"
    result = str(etree.XSLT(etree.parse(str(stylesheet)))(etree.fromstring(awkward[path].body)))
    page = lxml.html.document_fromstring(result)
    assert page.xpath("//main//script") == []
    shown_pairs = sorted(
        (
            " ".join(a.xpath(".//h3")[0].text_content().split()),
            " ".join(a.xpath(".//*[contains(@class, 'summary')]")[0].text_content().split()),
        )
        for a in page.xpath("//main//article")
    )
    assert shown_pairs == sorted((" ".join(t.split()), " ".join(s.split())) for t, s in AWKWARD)
