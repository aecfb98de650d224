"""The browser stylesheet feedsvc/static/feed.xsl, applied with lxml (libxslt, as in Chrome).

Browsers run it on our RSS 2.0 and Atom 1.0 feeds (``<?xml-stylesheet type="text/xsl"?>``)
so people who open a feed URL get a readable page. The feed content is untrusted: the
tests check that markup in titles and summaries comes out as text, never as elements.
"""

from pathlib import Path
from xml.sax.saxutils import escape

import lxml.html
import pytest
from lxml import etree

STYLESHEET = Path(__file__).resolve().parents[2] / "feedsvc" / "static" / "feed.xsl"
XSL_NS = "http://www.w3.org/1999/XSL/Transform"

SCRIPT = "<script>alert(1)</script>"
NASTY_TITLE = f"Q&A: 1 < 2 > 0 {SCRIPT}"
NASTY_SUMMARY = f"Tom & Jerry say 3 < 4 > 2 {SCRIPT}"
NON_ASCII = "Zoë Müller, 北京"

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/assets/feed.xsl"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Ministry Press Releases</title>
    <link>https://press.example.org/</link>
    <description>Official statements and readouts from the press office.</description>
    <language>en-gb</language>
    <lastBuildDate>Fri, 11 Sep 2020 12:00:00 +0000</lastBuildDate>
    <atom:link rel="self" type="application/rss+xml"
               href="https://press.example.org/feeds/rss.xml"/>
    <atom:link rel="prev-archive" href="https://press.example.org/feeds/archive/2020-08.xml"/>
    <item>
      <title>Wang Yi meets the press with Zoë Müller, 北京</title>
      <link>https://press.example.org/2020/09/11/wang-yi-press</link>
      <guid isPermaLink="true">https://press.example.org/2020/09/11/wang-yi-press</guid>
      <pubDate>Fri, 11 Sep 2020 10:00:00 +0000</pubDate>
      <category>Diplomacy</category>
      <category>Russia</category>
      <description>Foreign Minister Wang Yi met the press in Moscow. Zoë Müller, 北京.</description>
      <content:encoded><![CDATA[<p>Full text of the release.</p>]]></content:encoded>
    </item>
    <item>
      <title>Q&amp;A: 1 &lt; 2 &gt; 0 &lt;script&gt;alert(1)&lt;/script&gt;</title>
      <link>https://press.example.org/2020/09/10/qa?a=1&amp;b=2</link>
      <guid isPermaLink="false">release-2020-09-10</guid>
      <pubDate>Thu, 10 Sep 2020 08:30:00 +0000</pubDate>
      <description>
        Tom &amp; Jerry say 3 &lt; 4 &gt; 2 &lt;script&gt;alert(1)&lt;/script&gt;
      </description>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/assets/feed.xsl"?>
<feed xmlns="http://www.w3.org/2005/Atom"
      xmlns:fh="http://purl.org/syndication/history/1.0"
      xmlns:at="http://purl.org/atompub/tombstones/1.0"
      xml:lang="de-DE">
  <title>Pressemitteilungen</title>
  <subtitle>Archiv: August 2020</subtitle>
  <id>urn:uuid:6f1c2b1e-0000-4000-8000-000000000001</id>
  <updated>2020-08-31T18:00:00Z</updated>
  <link rel="self" type="application/atom+xml"
        href="https://press.example.org/feeds/archive/2020-08.atom"/>
  <link rel="alternate" type="text/html" href="https://press.example.org/de/"/>
  <link rel="current" href="https://press.example.org/feeds/atom.xml"/>
  <link rel="prev-archive" href="https://press.example.org/feeds/archive/2020-07.atom"/>
  <link rel="next-archive" href="https://press.example.org/feeds/archive/2020-09.atom"/>
  <fh:archive/>
  <entry>
    <title type="text">Erklärung von Zoë Müller, 北京</title>
    <id>urn:uuid:6f1c2b1e-0000-4000-8000-000000000002</id>
    <link rel="related" href="https://elsewhere.example.com/background"/>
    <link rel="alternate" type="text/html" href="https://press.example.org/de/2020/08/erklaerung"/>
    <published>2020-08-30T09:15:00+02:00</published>
    <updated>2020-08-30T11:00:00+02:00</updated>
    <category term="diplomatie" label="Diplomatie"/>
    <category term="china"/>
    <summary>Eine Erklärung von Zoë Müller, 北京.</summary>
  </entry>
  <entry>
    <title type="text">Q&amp;A: 1 &lt; 2 &gt; 0 &lt;script&gt;alert(1)&lt;/script&gt;</title>
    <id>urn:uuid:6f1c2b1e-0000-4000-8000-000000000003</id>
    <link href="https://press.example.org/de/2020/08/qa?x=1&amp;y=2"/>
    <updated>2020-08-12T07:00:00Z</updated>
    <summary type="text">
      Tom &amp; Jerry say 3 &lt; 4 &gt; 2 &lt;script&gt;alert(1)&lt;/script&gt;
    </summary>
  </entry>
  <at:deleted-entry ref="urn:uuid:tombstone-gone" when="2020-08-20T00:00:00Z">
    <at:comment>Withdrawn release</at:comment>
  </at:deleted-entry>
</feed>
"""

# What each sample must show: (title, href) per item, plus feed-level facts.
EXPECTED = {
    "rss": {
        "xml": RSS,
        "lang": "en-gb",
        "title": "Ministry Press Releases",
        "subtitle": "Official statements and readouts from the press office.",
        "site": "https://press.example.org/",
        "self": "https://press.example.org/feeds/rss.xml",
        "items": [
            (
                f"Wang Yi meets the press with {NON_ASCII}",
                "https://press.example.org/2020/09/11/wang-yi-press",
            ),
            (NASTY_TITLE, "https://press.example.org/2020/09/10/qa?a=1&b=2"),
        ],
        "dates": ["Fri, 11 Sep 2020 10:00:00 +0000", "Thu, 10 Sep 2020 08:30:00 +0000"],
        "categories": ["Diplomacy", "Russia"],
        "archive": {"Older": "https://press.example.org/feeds/archive/2020-08.xml"},
        "is_archive": False,
    },
    "atom": {
        "xml": ATOM,
        "lang": "de-DE",
        "title": "Pressemitteilungen",
        "subtitle": "Archiv: August 2020",
        "site": "https://press.example.org/de/",
        "self": "https://press.example.org/feeds/archive/2020-08.atom",
        "items": [
            (
                f"Erklärung von {NON_ASCII}",
                "https://press.example.org/de/2020/08/erklaerung",
            ),
            (NASTY_TITLE, "https://press.example.org/de/2020/08/qa?x=1&y=2"),
        ],
        # published wins over updated; updated is the fallback
        "dates": ["2020-08-30", "2020-08-12"],
        "categories": ["Diplomatie", "china"],
        "archive": {
            "Older": "https://press.example.org/feeds/archive/2020-07.atom",
            "Newer": "https://press.example.org/feeds/archive/2020-09.atom",
            "Current": "https://press.example.org/feeds/atom.xml",
        },
        "is_archive": True,
    },
}

FORMATS = sorted(EXPECTED)


@pytest.fixture(scope="module")
def transform():
    return etree.XSLT(etree.parse(str(STYLESHEET)))


def render(transform, xml):
    """Transform a feed; return the serialized HTML and the page as a browser would parse it."""
    result = transform(etree.fromstring(xml.encode("utf-8")))
    html = str(result)
    return html, lxml.html.document_fromstring(html)


def text(el):
    return " ".join(el.text_content().split())


def articles(page):
    return page.xpath("//main//article")


@pytest.fixture(params=FORMATS)
def case(request, transform):
    expected = EXPECTED[request.param]
    html, page = render(transform, expected["xml"])
    return expected, html, page


# --------------------------------------------------------------------- stylesheet itself


def test_stylesheet_is_well_formed_xslt_1_with_html5_output(transform):
    root = etree.parse(str(STYLESHEET)).getroot()
    assert root.tag == f"{{{XSL_NS}}}stylesheet"
    assert root.get("version") == "1.0"
    (output,) = root.findall(f"{{{XSL_NS}}}output")
    assert output.get("method") == "html"
    assert output.get("doctype-system") == "about:legacy-compat"
    assert output.get("encoding") == "UTF-8"
    assert isinstance(transform, etree.XSLT)


def test_stylesheet_never_disables_output_escaping():
    root = etree.parse(str(STYLESHEET)).getroot()
    assert root.xpath("//*[@disable-output-escaping]") == []


# ------------------------------------------------------------------------- both formats


def test_page_is_html5_with_viewport_and_lang(case):
    expected, html, page = case
    assert html.lstrip().upper().startswith("<!DOCTYPE HTML")
    assert page.tag == "html"
    assert page.get("lang") == expected["lang"]
    assert page.xpath("//head/meta[@name='viewport']/@content") == [
        "width=device-width, initial-scale=1"
    ]


def test_page_is_self_contained(case):
    _, _, page = case
    styles = page.xpath("//head/style")
    assert len(styles) == 1
    assert "prefers-color-scheme: dark" in styles[0].text
    assert page.xpath("//script | //link | //img | //iframe | //*[@src]") == []


def test_page_uses_semantic_structure(case):
    _, _, page = case
    assert len(page.xpath("//body/header")) == 1
    assert len(page.xpath("//body/main")) == 1
    assert len(articles(page)) == 2
    assert len(page.xpath("//h1")) == 1


def test_explains_what_a_feed_is_and_shows_self_url(case):
    expected, _, page = case
    (box,) = page.xpath("//header/aside[contains(@class, 'about')]")
    explanation = text(box)
    assert "This is a web feed" in explanation
    for reader in ("Miniflux", "FreshRSS", "NetNewsWire", "Feedly"):
        assert reader in explanation
    assert [text(c) for c in box.xpath(".//code")] == [expected["self"]]


def test_shows_feed_title_description_and_site_link(case):
    expected, _, page = case
    assert text(page.xpath("//h1")[0]) == expected["title"]
    assert expected["title"] in page.findtext(".//title")
    assert expected["subtitle"] in text(page.xpath("//header")[0])
    assert page.xpath("//header//a/@href").count(expected["site"]) == 1


def test_each_item_title_links_to_its_page(case):
    expected, _, page = case
    found = []
    for article in articles(page):
        (link,) = article.xpath(".//h3/a")
        found.append((text(link), link.get("href")))
    assert found == expected["items"]


def test_each_item_shows_date_and_categories(case):
    expected, _, page = case
    arts = articles(page)
    for article, date in zip(arts, expected["dates"], strict=True):
        assert date in text(article)
    assert [text(t) for t in arts[0].xpath(".//ul[@class='tags']/li")] == expected["categories"]


def test_atom_date_carries_machine_readable_datetime(transform):
    _, page = render(transform, ATOM)
    assert page.xpath("//article//time/@datetime") == [
        "2020-08-30T09:15:00+02:00",
        "2020-08-12T07:00:00Z",
    ]


def test_untrusted_markup_is_shown_as_text_not_elements(case):
    _, html, page = case
    # Serialized page: the markup is escaped, never raw.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    # Parsed page: no element was injected, the text is intact.
    assert page.xpath("//script") == []
    (_, nasty) = articles(page)
    assert text(nasty.xpath(".//h3")[0]) == NASTY_TITLE
    assert text(nasty.xpath(".//*[contains(@class, 'summary')]")[0]) == NASTY_SUMMARY


def test_non_ascii_text_survives(case):
    _, html, page = case
    assert NON_ASCII in html
    assert NON_ASCII in text(articles(page)[0])


def test_archive_navigation_links(case):
    expected, _, page = case
    nav = page.xpath("//nav")
    assert len(nav) == 1
    links = {text(a).strip("←→ "): a.get("href") for a in nav[0].xpath(".//a")}
    assert links == expected["archive"]


def test_archive_page_is_announced_only_for_fh_archive(case):
    expected, _, page = case
    assert ("This is an archive page" in text(page)) is expected["is_archive"]


# ------------------------------------------------------------------------ special cases


def test_atom_tombstones_are_ignored(transform):
    html, page = render(transform, ATOM)
    assert "tombstone-gone" not in html
    assert "Withdrawn release" not in html
    assert len(articles(page)) == 2


def test_no_archive_navigation_without_archive_links(transform):
    rss = RSS.replace(
        '<atom:link rel="prev-archive" href="https://press.example.org/feeds/archive/2020-08.xml"/>',
        "",
    )
    assert rss != RSS
    _, page = render(transform, rss)
    assert page.xpath("//nav") == []
    assert len(articles(page)) == 2


def test_language_defaults_to_english_when_the_feed_has_none(transform):
    _, page = render(transform, RSS.replace("<language>en-gb</language>", ""))
    assert page.get("lang") == "en"


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>"],
)
def test_dangerous_item_urls_are_not_linked(transform, href):
    rss = RSS.replace(
        "<link>https://press.example.org/2020/09/11/wang-yi-press</link>",
        f"<link>{escape(href)}</link>",
    )
    _, page = render(transform, rss)
    first = articles(page)[0]
    assert first.xpath(".//a") == []
    assert "Wang Yi meets the press" in text(first)
    assert not any(":alert" in h.lower() for h in page.xpath("//@href"))


def test_unrecognised_document_gets_a_plain_explanation(transform):
    _, page = render(transform, "<html xmlns='http://www.w3.org/1999/xhtml'/>")
    assert "Unrecognised feed" in text(page)
    assert articles(page) == []
