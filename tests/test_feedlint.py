"""Tests for tests/feedlint.py: minimal valid feeds lint clean, and each rule fires.

Each broken variant is a valid fixture with one edit (occasionally a few); the test checks
that the edit applied, so a drifting fixture fails loudly, and that some reported problem
mentions the rule.  As the valid fixture lints clean, that problem comes from the edit.
The accepted variants are edits the W3C validator allows, which must stay clean.
"""

from __future__ import annotations

import copy
import json

import feedparser
import pytest

from tests import feedlint

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet href="/feeds/pretty.xsl" type="text/xsl"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Example Corp press releases</title>
    <link>https://example.com/press/</link>
    <description>Press releases from Example Corp.</description>
    <language>en-us</language>
    <ttl>60</ttl>
    <lastBuildDate>Wed, 02 Oct 2024 13:00:00 GMT</lastBuildDate>
    <atom:link rel="self" type="application/rss+xml" href="https://example.com/press/rss.xml"/>
    <atom:link rel="hub" href="https://hub.example.com/"/>
    <item>
      <title>Example Corp opens Oslo office</title>
      <link>https://example.com/press/oslo</link>
      <description><![CDATA[<p>Read the <a href="https://example.com/press/oslo">release</a>.</p>]]></description>
      <content:encoded><![CDATA[<p><img src="https://example.com/i/oslo.jpg" alt=""/>Text.</p>]]></content:encoded>
      <guid isPermaLink="false">tag:example.com,2024:press/oslo</guid>
      <category>Offices</category>
      <author>press@example.com (Example Press Office)</author>
      <pubDate>Wed, 02 Oct 2024 12:00:00 +0200</pubDate>
    </item>
    <item>
      <title>Example Corp reports results</title>
      <link>https://example.com/press/results</link>
      <description>Quarterly results.</description>
      <guid>https://example.com/press/results</guid>
      <enclosure url="https://example.com/press/results.pdf" length="12345" type="application/pdf"/>
      <pubDate>Tue, 01 Oct 2024 09:30 GMT</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet href="/feeds/pretty.xsl" type="text/xsl"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"
      xmlns:at="http://purl.org/atompub/tombstones/1.0"
      xmlns:fh="http://purl.org/syndication/history/1.0">
  <title>Example Corp press releases</title>
  <subtitle type="html">&lt;p&gt;News from Example Corp&lt;/p&gt;</subtitle>
  <id>tag:example.com,2024:press</id>
  <updated>2024-10-02T13:00:00Z</updated>
  <link rel="self" type="application/atom+xml" href="https://example.com/press/atom.xml"/>
  <link rel="alternate" type="text/html" href="https://example.com/press/"/>
  <link rel="hub" href="https://hub.example.com/"/>
  <author><name>Example Corp press office</name><email>press@example.com</email></author>
  <fh:complete/>
  <entry>
    <title>Example Corp opens Oslo office</title>
    <id>tag:example.com,2024:press/oslo</id>
    <link rel="alternate" type="text/html" href="https://example.com/press/oslo"/>
    <published>2024-10-02T12:00:00+02:00</published>
    <updated>2024-10-02T12:30:00+02:00</updated>
    <summary>Example Corp opens an office in Oslo.</summary>
    <content type="html">&lt;p&gt;See &lt;a href="https://example.com/press/oslo"&gt;the release&lt;/a&gt;.&lt;/p&gt;</content>
    <category term="offices"/>
  </entry>
  <entry>
    <title type="text">Example Corp reports results</title>
    <id>https://example.com/press/results</id>
    <updated>2024-10-01T09:30:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p><a href="https://example.com/r.pdf">PDF</a></p></div></content>
  </entry>
  <at:deleted-entry ref="tag:example.com,2024:press/withdrawn" when="2024-10-01T08:00:00Z"/>
</feed>
"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Example Corp press releases",
    "home_page_url": "https://example.com/press/",
    "feed_url": "https://example.com/press/feed.json",
    "next_url": "https://example.com/press/feed-2.json",
    "description": "Press releases from Example Corp.",
    "language": "en-US",
    "authors": [{"name": "Example Corp press office", "url": "https://example.com/"}],
    "hubs": [{"type": "WebSub", "url": "https://hub.example.com/"}],
    "expired": False,
    "_example": {"about": "https://example.com/json-feed-extension"},
    "items": [
        {
            "id": "https://example.com/press/oslo",
            "url": "https://example.com/press/oslo",
            "title": "Example Corp opens Oslo office",
            "content_html": '<p>See <a href="https://example.com/press/oslo">it</a>.</p>',
            "date_published": "2024-10-02T12:00:00+02:00",
            "date_modified": "2024-10-02T12:30:00+02:00",
            "tags": ["offices"],
            "attachments": [
                {"url": "https://example.com/oslo.pdf", "mime_type": "application/pdf"}
            ],
        },
        {"id": "results-2024-q3", "content_text": "Quarterly results.", "language": "en"},
    ],
}


def _edit(text: str, old: str | tuple, new: str | tuple) -> bytes:
    """Replace old by new (or each old by its new, for tuples), each matching exactly once."""
    pairs = zip(old, new, strict=True) if isinstance(old, tuple) else [(old, new)]
    for before, after in pairs:
        assert text.count(before) == 1, f"fixture edit {before!r} does not match exactly once"
        text = text.replace(before, after)
    return text.encode("utf-8")


def _has(problems: list[str], expected: str) -> bool:
    return any(expected in problem for problem in problems)


# --- the valid fixtures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lint", "body"),
    [
        (feedlint.lint_rss, RSS.encode()),
        (feedlint.lint_atom, ATOM.encode()),
        (feedlint.lint_json_feed, json.dumps(JSON_FEED).encode()),
    ],
    ids=["rss", "atom", "json"],
)
def test_valid_feed_lints_clean_and_parses(lint, body):
    assert lint(body) == []
    if lint is not feedlint.lint_json_feed:
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 2


def test_lint_functions_take_bytes():
    for lint in (feedlint.lint_rss, feedlint.lint_atom, feedlint.lint_json_feed):
        with pytest.raises(TypeError):
            lint(RSS)


# --- RSS 2.0 ---------------------------------------------------------------------------------

SELF = '<atom:link rel="self" type="application/rss+xml" href="https://example.com/press/rss.xml"/>'
ITEM2 = """<title>Example Corp reports results</title>
      <link>https://example.com/press/results</link>
      <description>Quarterly results.</description>"""
GUID2 = "<guid>https://example.com/press/results</guid>"
DATE2 = "Tue, 01 Oct 2024 09:30 GMT"

# (case id, text in RSS, replacement, text some problem must contain)
RSS_BROKEN = [
    ("not-well-formed", "</channel>", "", "SAXError"),
    ("no-encoding", ' encoding="UTF-8"', "", "NotUTF8"),
    ("latin-1", 'encoding="UTF-8"', 'encoding="ISO-8859-1"', "NotUTF8"),
    ("undefined-prefix", "<category>Offices</category>", "<x:tag>1</x:tag>", "MissingNamespace"),
    ("content-ns", "modules/content/", "modules/content", "ReservedPrefix"),
    ("unknown-ns", 'xmlns:dc="', 'xmlns:q="urn:example:q" xmlns:dc="', "UnknownNamespace"),
    ("version", 'version="2.0"', 'version="0.92"', "InvalidRSSVersion"),
    (
        "two-channels",
        "</channel>\n</rss>",
        "</channel><channel/></rss>",
        "needs exactly one <channel>, has 2",
    ),
    ("no-title", "<title>Example Corp press releases</title>", "", "required <title>"),
    ("no-link", "<link>https://example.com/press/</link>", "", "required <link>"),
    (
        "no-description",
        "<description>Press releases from Example Corp.</description>",
        "",
        "required <description>",
    ),
    ("blank-title", "<title>Example Corp press releases</title>", "<title> </title>", "NotBlank"),
    (
        "relative-link",
        "<link>https://example.com/press/</link>",
        "<link>/press/</link>",
        "channel/link: '/press/' is not an absolute URI",
    ),
    (
        "link-space",
        "https://example.com/press/<",
        "https://example.com/press release/<",
        "InvalidUriChar",
    ),
    ("no-self-link", SELF, "", "MissingAtomSelfLink"),
    ("self-type", 'type="application/rss+xml"', 'type="text/xml"', "SelfNotAtom"),
    ("relative-self", 'href="https://example.com/press/rss.xml"', 'href="rss.xml"', "RelativeSelf"),
    ("link-rel", 'rel="hub"', 'rel="bogus rel"', "UnregisteredAtomLinkRel"),
    (
        "language",
        "<language>en-us</language>",
        "<language>english (US)</language>",
        "InvalidLanguage",
    ),
    ("ttl-negative", "<ttl>60</ttl>", "<ttl>-5</ttl>", "InvalidPositiveInteger"),
    ("ttl-text", "<ttl>60</ttl>", "<ttl>hourly</ttl>", "InvalidPositiveInteger"),
    ("two-digit-year", "02 Oct 2024 13:00:00 GMT", "02 Oct 24 13:00:00 GMT", "InvalidRFC2822Date"),
    ("zone-name", "02 Oct 2024 13:00:00 GMT", "02 Oct 2024 13:00:00 CET", "InvalidRFC2822Date"),
    ("zone-short", "12:00:00 +0200", "12:00:00 +2", "InvalidRFC2822Date"),
    ("iso-date", "Wed, 02 Oct 2024 13:00:00 GMT", "2024-10-02T13:00:00Z", "InvalidRFC2822Date"),
    ("day-of-week", "Wed, 02 Oct 2024 13:00", "Thu, 02 Oct 2024 13:00", "IncorrectDOW"),
    ("no-such-day", DATE2, "Thu, 30 Feb 2024 09:30 GMT", "not a real date"),
    ("future-date", DATE2, "Thu, 01 Oct 2099 09:30 GMT", "ImplausibleDate"),
    ("ancient-date", DATE2, "Mon, 01 Oct 1979 09:30 GMT", "ImplausibleDate"),
    (
        "item-empty",
        ITEM2,
        "<link>https://example.com/press/results</link>",
        "ItemMustContainTitleOrDescription",
    ),
    ("no-guid", GUID2, "", "MissingGuid"),
    ("tag-guid-permalink", ' isPermaLink="false">tag:', ">tag:", "InvalidPermalink"),
    ("word-guid-permalink", GUID2, "<guid>results</guid>", "InvalidPermalink"),
    (
        "duplicate-guid",
        GUID2,
        '<guid isPermaLink="false">tag:example.com,2024:press/oslo</guid>',
        "DuplicateValue",
    ),
    (
        "item-link",
        "<link>https://example.com/press/oslo</link>",
        "<link>oslo.html</link>",
        "item 1/link: 'oslo.html' is not an absolute URI",
    ),
    ("blank-category", "<category>Offices</category>", "<category></category>", "NotBlank"),
    (
        "relative-href",
        '"https://example.com/press/oslo">release',
        '"/press/oslo">release',
        "ContainsRelRef",
    ),
    ("relative-src", 'src="https://example.com/i/oslo.jpg"', 'src="i/oslo.jpg"', "ContainsRelRef"),
    ("unknown-element", "<ttl>60</ttl>", "<ttl>60</ttl><updated>x</updated>", "UndefinedElement"),
    (
        "unescaped-html",
        "<description>Quarterly results.</description>",
        "<description><p>Q</p></description>",
        "UndefinedElement",
    ),
    (
        "two-titles",
        "<title>Example Corp reports results</title>",
        "<title>A</title><title>B</title>",
        "<title> appears 2 times",
    ),
    (
        "two-pubdates",
        f"<pubDate>{DATE2}</pubDate>",
        f"<pubDate>{DATE2}</pubDate>" * 2,
        "<pubDate> appears 2 times",
    ),
    (
        "two-descriptions",
        "<description>Quarterly results.</description>",
        "<description>a</description><description>b</description>",
        "<description> appears 2",
    ),
    (
        "two-links",
        "<link>https://example.com/press/results</link>",
        "<link>https://example.com/a</link>" * 2,
        "<link> appears 2 times",
    ),
    (
        "html-in-title",
        "<title>Example Corp reports results</title>",
        "<title>&lt;b&gt;Results&lt;/b&gt;</title>",
        "ContainsHTML",
    ),
    # Issue 12: text and HTML as the validator tells them apart.
    (
        "title-reference",
        "<title>Example Corp reports results</title>",
        "<title>Q3 &amp;amp; Q4</title>",
        "ContainsHTML",
    ),
    (
        "channel-description-html",
        "<description>Press releases from Example Corp.</description>",
        "<description>&lt;p&gt;Press releases&lt;/p&gt;</description>",
        "channel/description: text holds HTML",
    ),
    (
        "character-data-lt",
        "<title>Example Corp reports results</title>",
        "<title>Results &lt;b results</title>",
        "CharacterData",
    ),
    (
        "character-data-ref",
        "<title>Example Corp reports results</title>",
        "<title>Results &amp;#38; more</title>",
        "ContainsHTML",
    ),
    (
        "description-bare-amp",
        "<description>Quarterly results.</description>",
        "<description>R&amp;D results</description>",
        "NotHtml",
    ),
    (
        "description-bare-lt",
        "<description>Quarterly results.</description>",
        "<description>&lt;5% of R&amp;amp;D</description>",
        "NotHtml",
    ),
    (
        "description-unknown-tag",
        "<description>Quarterly results.</description>",
        "<description>&lt;blink&gt;Q&lt;/blink&gt;</description>",
        "NotHtml",
    ),
    (
        "description-unclosed",
        "<description>Quarterly results.</description>",
        "<description>&lt;b&gt;Quarterly</description>",
        "NotHtml",
    ),
    (
        "description-no-semicolon",
        "<description>Quarterly results.</description>",
        "<description>&amp;copy 2024</description>",
        "NotHtml",
    ),
    ("content-closes-twice", "Text.</p>", "Text.</p></p>", "NotHtml"),
    (
        "content-alone",
        "<description>Quarterly results.</description>",
        "<content:encoded>Q</content:encoded>",
        "NeedDescriptionBeforeContent",
    ),
    (
        "enclosure-url",
        'url="https://example.com/press/results.pdf"',
        'url="results.pdf"',
        "enclosure: 'results.pdf' is not an absolute URI",
    ),
    (
        "source-url",
        "<category>Offices</category>",
        '<source url="feed.xml">Other</source>',
        "source",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in RSS_BROKEN], ids=[c[0] for c in RSS_BROKEN]
)
def test_rss_rule_fires(old, new, expected):
    problems = feedlint.lint_rss(_edit(RSS, old, new))
    assert _has(problems, expected), problems


# Edits the validator accepts, so the linter must too.
RSS_STILL_VALID = [
    ("negative-zone", "12:00:00 +0200", "12:00:00 -0500"),
    ("no-day-name", "Tue, 01 Oct 2024 09:30 GMT", "01 Oct 2024 09:30 GMT"),
    (
        "mailto-comments",
        "<category>Offices</category>",
        "<comments>mailto:p@example.com</comments>",
    ),
    ("extension-element", "<ttl>60</ttl>", "<ttl>60</ttl><dc:rights>CC BY</dc:rights>"),
    ("permalink-guid-true", "<guid>", '<guid isPermaLink="true">'),
    ("item-atom-link", GUID2, GUID2 + '<atom:link rel="related" href="https://example.com/x"/>'),
    # Issue 12: text written as the RSS Best Practices Profile asks, HTML that is HTML.
    (
        "title-ampersand",
        "<title>Example Corp reports results</title>",
        "<title>AT&amp;T &amp; R&amp;D &gt; 5%</title>",
    ),
    (
        "title-hex-references",
        "<title>Example Corp reports results</title>",
        "<title>Tom &#x26;amp; Jerry &#x3C;b&#x3E;</title>",
    ),
    (
        "title-hex-lt",
        "<title>Example Corp reports results</title>",
        "<title>Results &#x3C;b results</title>",
    ),
    (
        "description-escaped-text",
        "<description>Quarterly results.</description>",
        "<description>R&amp;amp;D &amp;lt;5% &amp;lt;b&amp;gt;</description>",
    ),
    (
        "description-open-p",
        "<description>Quarterly results.</description>",
        "<description>&lt;p&gt;One&lt;p&gt;Two</description>",
    ),
]


@pytest.mark.parametrize(
    ("old", "new"), [c[1:] for c in RSS_STILL_VALID], ids=[c[0] for c in RSS_STILL_VALID]
)
def test_rss_accepted_variant(old, new):
    assert feedlint.lint_rss(_edit(RSS, old, new)) == []


def test_each_linter_rejects_the_other_formats():
    assert _has(feedlint.lint_rss(ATOM.encode()), "not <rss")
    assert _has(feedlint.lint_atom(RSS.encode()), "not an Atom <feed>")
    assert _has(feedlint.lint_json_feed(RSS.encode()), "not valid UTF-8 JSON")
    assert _has(feedlint.lint_rss(b"\xff\xfe<rss/>"), "SAXError")


# --- Atom 1.0 --------------------------------------------------------------------------------

FEED_ID = "<id>tag:example.com,2024:press</id>"
ENTRY1_ID = "<id>tag:example.com,2024:press/oslo</id>"
ENTRY2_ID = "<id>https://example.com/press/results</id>"
ENTRY2_UPDATED = "<updated>2024-10-01T09:30:00Z</updated>"
ALT1 = '<link rel="alternate" type="text/html" href="https://example.com/press/oslo"/>'
AUTHOR = "<author><name>Example Corp press office</name><email>press@example.com</email></author>"
XHTML = '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
ENTRY1_CONTENT, ENTRY2_CONTENT = (line.strip() for line in ATOM.splitlines() if "<content" in line)
SUMMARY = "<summary>Example Corp opens an office in Oslo.</summary>"
TOMBSTONE = (
    '<at:deleted-entry ref="tag:example.com,2024:press/withdrawn" when="2024-10-01T08:00:00Z"/>'
)

ATOM_BROKEN = [
    ("not-well-formed", "</feed>", "", "SAXError"),
    ("no-encoding", ' encoding="utf-8"', "", "NotUTF8"),
    ("undefined-prefix", "<fh:complete/>", "<fx:complete/>", "MissingNamespace"),
    (
        "atom-prefix",
        ALT1,
        ALT1.replace("<link", '<a:link xmlns:a="http://www.w3.org/2005/Atom"'),
        "AvoidNamespacePrefix",
    ),
    ("tombstone-ns", "atompub/tombstones/1.0", "atompub/tombstones/1", "UnknownNamespace"),
    (
        "tombstone-ns-unused",
        TOMBSTONE,
        "",
        "unknown namespace 'http://purl.org/atompub/tombstones/1.0'",
    ),
    ("no-feed-id", FEED_ID, "", "feed: missing required <id>"),
    ("two-feed-ids", FEED_ID, FEED_ID * 2, "<id> appears 2 times"),
    ("feed-id-not-iri", FEED_ID, "<id>press releases</id>", "not an absolute URI"),
    ("feed-id-bad-tag", FEED_ID, "<id>tag:example.com:press</id>", "InvalidTAG"),
    ("feed-id-bad-urn", FEED_ID, "<id>urn:uuid:1234</id>", "InvalidURN"),
    ("href-bad-chars", 'href="https://hub.example.com/"', 'href="hub 1/"', "InvalidIRI"),
    ("no-text-at-all", (ENTRY1_CONTENT, SUMMARY), ("", ""), "MissingTextualContent"),
    ("no-feed-title", "<title>Example Corp press releases</title>", "", "required <title>"),
    (
        "no-feed-updated",
        "<updated>2024-10-02T13:00:00Z</updated>",
        "",
        "feed: missing required <updated>",
    ),
    ("updated-no-zone", "2024-10-02T13:00:00Z", "2024-10-02T13:00:00", "InvalidRFC3339Date"),
    ("updated-date-only", "2024-10-02T13:00:00Z", "2024-10-02", "InvalidRFC3339Date"),
    ("updated-not-real", "2024-10-02T13:00:00Z", "2024-02-30T13:00:00Z", "not a real date"),
    ("updated-future", "2024-10-02T13:00:00Z", "2099-10-02T13:00:00Z", "ImplausibleDate"),
    ("no-author", AUTHOR, "", "no <author> here nor on <feed>"),
    (
        "author-no-name",
        "<name>Example Corp press office</name>",
        "",
        "exactly one non-blank <name>",
    ),
    (
        "no-self",
        '<link rel="self" type="application/atom+xml" href="https://example.com/press/atom.xml"/>',
        "",
        "MissingSelf",
    ),
    ("self-type", 'type="application/atom+xml"', 'type="text/html"', "SelfNotAtom"),
    (
        "relative-self",
        'href="https://example.com/press/atom.xml"',
        'href="atom.xml"',
        "RelativeSelf",
    ),
    (
        "no-alternate",
        '<link rel="alternate" type="text/html" href="https://example.com/press/"/>',
        "",
        'missing <link rel="alternate"/>',
    ),
    (
        "link-no-href",
        '<link rel="hub" href="https://hub.example.com/"/>',
        '<link rel="hub"/>',
        "MissingHref",
    ),
    ("link-bad-rel", 'rel="hub"', 'rel="subscribe"', "UnregisteredAtomLinkRel"),
    (
        "link-bad-type",
        'type="text/html" href="https://example.com/press/"',
        'type="html" href="https://example.com/press/"',
        "InvalidMIMEType",
    ),
    (
        "unknown-element",
        "<fh:complete/>",
        "<fh:complete/><modified>x</modified>",
        "UndefinedElement",
    ),
    ("text-type", '<title type="text">', '<title type="markdown">', "InvalidTextType"),
    (
        "html-in-text",
        "<title>Example Corp opens Oslo office</title>",
        "<title>&lt;b&gt;Oslo&lt;/b&gt;</title>",
        "ContainsUndeclaredHTML",
    ),
    (
        "unescaped-html",
        "&lt;p&gt;News from Example Corp&lt;/p&gt;",
        "<p>News</p>",
        "escape the markup",
    ),
    (
        "xhtml-no-div",
        '<div xmlns="http://www.w3.org/1999/xhtml"><p><a href="https://example.com/r.pdf">PDF</a></p></div>',
        "PDF",
        "MissingXhtmlDiv",
    ),
    ("blank-title", "<title>Example Corp opens Oslo office</title>", "<title/>", "NotBlank"),
    (
        "relative-html-ref",
        'href="https://example.com/press/oslo"&gt;',
        'href="oslo.html"&gt;',
        "ContainsRelRef",
    ),
    ("relative-xhtml-ref", 'href="https://example.com/r.pdf"', 'href="r.pdf"', "ContainsRelRef"),
    ("entry-no-id", ENTRY1_ID, "", "entry 1: missing required <id>"),
    (
        "entry-no-title",
        "<title>Example Corp opens Oslo office</title>",
        "",
        "entry 1: missing required <title>",
    ),
    (
        "entry-no-updated",
        "<updated>2024-10-02T12:30:00+02:00</updated>",
        "",
        "entry 1: missing required <updated>",
    ),
    ("entry-two-contents", XHTML, "<content>short</content>" + XHTML, "<content> appears 2 times"),
    ("no-content-no-alternate", ENTRY2_CONTENT, "", "MissingContentOrAlternate"),
    (
        "content-src-no-summary",
        ENTRY2_CONTENT,
        '<content type="application/pdf" src="https://example.com/r.pdf"/>',
        "MissingSummary",
    ),
    (
        "updated-before-published",
        "<published>2024-10-02T12:00:00+02:00</published>",
        "<published>2024-10-02T13:00:00+02:00</published>",
        "before <published>",
    ),
    ("duplicate-entry", ENTRY2_ID, ENTRY1_ID, "DuplicateEntries"),
    (
        "duplicate-updated",
        ENTRY2_ID + "\n    " + ENTRY2_UPDATED,
        ENTRY1_ID + "<updated>2024-10-02T12:30:00+02:00</updated>",
        "DuplicateUpdated",
    ),
    # The validator compares updated across all entries, whatever their ids.
    (
        "same-updated",
        ENTRY2_UPDATED,
        "<updated>2024-10-02T12:30:00+02:00</updated>",
        "DuplicateUpdated",
    ),
    (
        "undeclared-reference",
        "<title>Example Corp opens Oslo office</title>",
        "<title>Oslo &amp;amp; Bergen</title>",
        "ContainsUndeclaredHTML",
    ),
    ("summary-bare-amp", SUMMARY, '<summary type="html">R&amp;D</summary>', "NotHtml"),
    (
        "summary-unknown-tag",
        SUMMARY,
        '<summary type="html">&lt;blink&gt;Oslo&lt;/blink&gt;</summary>',
        "NotHtml",
    ),
    ("subtitle-bare-lt", "&lt;p&gt;News from Example Corp&lt;/p&gt;", "&lt;5% of news", "NotHtml"),
    (
        "category-no-term",
        '<category term="offices"/>',
        '<category scheme="x"/>',
        "MissingAttribute",
    ),
    (
        "tombstone-no-ref",
        'ref="tag:example.com,2024:press/withdrawn" ',
        "",
        "at:deleted-entry ref: attribute is missing",
    ),
    ("tombstone-bad-when", 'when="2024-10-01T08:00:00Z"', 'when="yesterday"', "InvalidRFC3339Date"),
    (
        "tombstone-in-entry",
        '<category term="offices"/>',
        '<category term="offices"/>' + TOMBSTONE.replace("withdrawn", "w2"),
        "not allowed here",
    ),
    ("fh-unknown", "<fh:complete/>", "<fh:partial/>", "fh:partial: only an empty"),
    (
        "fh-complete-paged",
        "<fh:complete/>",
        '<fh:complete/><link rel="next" href="https://example.com/p2"/>',
        "FeedRelInCompleteFeed",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in ATOM_BROKEN], ids=[c[0] for c in ATOM_BROKEN]
)
def test_atom_rule_fires(old, new, expected):
    problems = feedlint.lint_atom(_edit(ATOM, old, new))
    assert _has(problems, expected), problems


ATOM_STILL_VALID = [
    (
        "cdata-html",
        "<summary>Example Corp opens an office in Oslo.</summary>",
        '<summary type="html"><![CDATA[<p>An <em>office</em> in Oslo.</p>]]></summary>',
    ),
    (
        "xml-base-relative",
        ('<entry>\n    <title type="text">', 'href="https://example.com/r.pdf"'),
        ('<entry xml:base="https://example.com/">\n    <title type="text">', 'href="r.pdf"'),
    ),
    ("iri-rel", 'rel="hub"', 'rel="https://example.com/rel/press-kit"'),
    (
        "tombstone-by",
        TOMBSTONE,
        TOMBSTONE[:-2]
        + "><at:by><name>Press</name></at:by><at:comment>Withdrawn</at:comment></at:deleted-entry>",
    ),
    (
        "html-title",
        "<title>Example Corp opens Oslo office</title>",
        '<title type="html">**Bold** &amp;amp; &amp;lt;b&amp;gt;Tags&amp;lt;/b&amp;gt;</title>',
    ),
    ("text-ampersand", SUMMARY, "<summary>R&amp;D &lt; 5% &gt; AT&amp;T &lt;b oslo</summary>"),
    (
        "no-tombstone-no-namespace",
        (TOMBSTONE, '      xmlns:at="http://purl.org/atompub/tombstones/1.0"\n'),
        ("", ""),
    ),
    ("same-updated-other-zone", ENTRY2_UPDATED, "<updated>2024-10-02T10:30:00Z</updated>"),
    (
        "fh-archive",
        "<fh:complete/>",
        '<fh:archive/><link rel="prev-archive" href="https://example.com/p0"/>',
    ),
    (
        "content-src",
        ENTRY2_CONTENT,
        '<summary>Results.</summary><content type="application/pdf" src="https://example.com/r.pdf"/>',
    ),
    (
        "authors-on-entries",
        (AUTHOR, "<entry>\n    <title>", '<entry>\n    <title type="text">'),
        ("", "<entry>" + AUTHOR + "<title>", "<entry>" + AUTHOR + '<title type="text">'),
    ),
]


@pytest.mark.parametrize(
    ("old", "new"), [c[1:] for c in ATOM_STILL_VALID], ids=[c[0] for c in ATOM_STILL_VALID]
)
def test_atom_accepted_variant(old, new):
    assert feedlint.lint_atom(_edit(ATOM, old, new)) == []


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def _set(path: str, value: object):
    """A mutation setting doc[path] (keys joined by '/', list indexes as digits); None deletes."""

    def mutate(doc: dict) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split("/")]
        for part in parents:
            doc = doc[part]
        if value is None:
            del doc[last]
        else:
            doc[last] = value

    return mutate


JSON_BROKEN = [
    ("version-1.0", _set("version", "https://jsonfeed.org/version/1"), "version/1.1"),
    ("no-version", _set("version", None), "'version' is a required property"),
    ("no-title", _set("title", None), "'title' is a required property"),
    ("no-items", _set("items", None), "'items' is a required property"),
    ("items-not-array", _set("items", {}), "is not of type 'array'"),
    ("item-no-id", _set("items/0/id", None), "'id' is a required property"),
    ("item-id-number", _set("items/1/id", 2), "2 is not of type 'string'"),
    ("item-no-content", _set("items/1/content_text", None), "content_html or content_text"),
    ("date-no-zone", _set("items/0/date_published", "2024-10-02T12:00:00"), "RFC 3339"),
    ("date-only", _set("items/0/date_modified", "2024-10-02"), "RFC 3339"),
    ("date-not-real", _set("items/0/date_modified", "2024-02-30T12:00:00Z"), "not a real date"),
    ("date-future", _set("items/0/date_published", "2099-01-01T00:00:00Z"), "ImplausibleDate"),
    ("authors-object", _set("authors", {"name": "x"}), "is not of type 'array'"),
    ("author-empty", _set("authors/0", {}), "at least one of name, url, avatar"),
    ("author-deprecated", _set("author", {"name": "Example"}), "deprecated"),
    ("item-author-deprecated", _set("items/1/author", {"name": "Example"}), "deprecated"),
    ("hub-no-type", _set("hubs/0", {"url": "https://hub.example.com/"}), "'type' is a required"),
    ("hub-no-url", _set("hubs/0", {"type": "WebSub"}), "'url' is a required"),
    ("next-url-relative", _set("next_url", "feed-2.json"), "absolute URL"),
    (
        "next-url-loop",
        _set("next_url", "https://example.com/press/feed.json"),
        "next_url must differ",
    ),
    ("feed-url-no-host", _set("feed_url", "https:///feed.json"), "absolute URL"),
    ("item-url-relative", _set("items/0/url", "/press/oslo"), "absolute URL"),
    ("language", _set("language", "English"), "language tag"),
    ("expired-string", _set("expired", "no"), "is not of type 'boolean'"),
    ("tags-not-strings", _set("items/0/tags", ["offices", 7]), "is not of type 'string'"),
    ("attachment-no-mime", _set("items/0/attachments/0/mime_type", None), "'mime_type' is a"),
    ("duplicate-ids", _set("items/1/id", "https://example.com/press/oslo"), "DuplicateValue"),
    ("unknown-key", _set("items/0/body", "x"), "unknown key (extensions are _name): 'body'"),
    ("extension-dot", _set("_ex.ample", {}), "unknown key (extensions are _name): '_ex.ample'"),
    ("relative-html-ref", _set("items/0/content_html", '<a href="/x">x</a>'), "ContainsRelRef"),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in JSON_BROKEN], ids=[c[0] for c in JSON_BROKEN]
)
def test_json_feed_rule_fires(mutate, expected):
    doc = copy.deepcopy(JSON_FEED)
    mutate(doc)
    problems = feedlint.lint_json_feed(json.dumps(doc).encode())
    assert _has(problems, expected), problems


def test_json_feed_document_problems():
    assert _has(feedlint.lint_json_feed(b'{"version": '), "not valid UTF-8 JSON")
    assert _has(feedlint.lint_json_feed(json.dumps(JSON_FEED).encode("utf-16")), "UTF-8")
    assert _has(feedlint.lint_json_feed(b"[]"), "is not of type 'object'")


def test_json_feed_extensions_and_text_items_are_accepted():
    doc = copy.deepcopy(JSON_FEED)
    doc["items"][1]["_example"] = {"rating": 5}
    doc["authors"][0] = {"avatar": "https://example.com/a.png"}
    assert feedlint.lint_json_feed(json.dumps(doc).encode()) == []


def test_json_schema_file_is_a_valid_draft_2020_12_schema():
    schema = json.loads(feedlint.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert feedlint._json_validator().META_SCHEMA["$id"] == schema["$schema"]
