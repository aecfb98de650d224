"""RSS 2.0 with feedgen, and the workarounds its defects need (see DESIGN.md)."""

from __future__ import annotations

import re
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.publishing.entry_elements import ELEMENTS, Made
from feedsvc.publishing.feed import (
    Entry,
    Feed,
    Picture,
    add_stylesheet,
    as_uri,
    categories,
    html_of_text,
    looks_like_markup,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"
MEDIA_NS = "http://search.yahoo.com/mrss/"  # Media RSS 1.5.1 (rssboard.org/media-rss)


# Elements holding text (item <description> holds HTML, escaped once more): '&', '<' and
# '>' written as hexadecimal character references, as the RSS Best Practices Profile asks
# (W3C "CharacterData"); the validator then takes '&lt;' in them for text, not markup.
# A <category> may carry a domain (issue 17), which lxml writes with '>' escaped.
_TEXT_ELEMENT = re.compile(rb"<(title|description|category|dc:creator)((?: [^>]*)?)>([^<]*)</\1>")
_HEX_REFERENCES = {b"&amp;": b"&#x26;", b"&lt;": b"&#x3C;", b"&gt;": b"&#x3E;"}
_ESCAPED = re.compile(rb"&(?:amp|lt|gt);")


def _with_hex_references(match: re.Match[bytes]) -> bytes:
    text = _ESCAPED.sub(lambda m: _HEX_REFERENCES[m.group(0)], match.group(3))
    return b"<%s%s>%s</%s>" % (match.group(1), match.group(2), text, match.group(1))


def _text(value: str) -> str:
    """RSS text elements have no type: a reader guesses, and takes text that looks like
    markup for HTML (feedparser, the W3C validator's ContainsHTML). Such text is written
    as the HTML that shows it; any other text as itself."""
    return html_of_text(value) if looks_like_markup(value) else value


class _ChannelLinks:
    """feedgen writes only the first atom:link rel="self" into RSS and drops every other
    (hub, prev-archive, ...); this extension writes the ones feedgen drops."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.stylesheet: str | None = None
        self.archive = False
        self.media = False  # some item has pictures

    def extend_ns(self) -> dict[str, str]:
        # Media RSS only where it is used: a feed without pictures keeps its bytes.
        return {"dc": DC_NS, "fh": FH_NS, **({"media": MEDIA_NS} if self.media else {})}

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        for link in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", link)
        if self.archive:  # RFC 5005 section 4: this page will not change (much) again
            etree.SubElement(channel, f"{{{FH_NS}}}archive")
        if self.stylesheet:
            add_stylesheet(rss, self.stylesheet)
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _ItemCreator:
    """RSS <author> must be an email address; a name goes in dc:creator. The item's files
    (issue 14): one <enclosure> (RSS allows one) and Media RSS for its pictures, which
    feedgen has no words for."""

    def __init__(self) -> None:
        self.creator: str | None = None
        self.entry: Entry | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    def extend_rss(self, item: Any) -> Any:
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        if self.entry is not None:
            _add_files(item, self.entry)
        return item

    def extend_atom(self, entry: Any) -> Any:
        return entry


def _add_files(item: Any, entry: Entry) -> None:
    enclosure = entry.enclosure
    if enclosure is not None:  # RSS 2.0: url, length in bytes, type, all required
        attrs = {"url": enclosure.url, "length": str(enclosure.length)}
        etree.SubElement(item, "enclosure", {**attrs, "type": enclosure.media_type})
    for picture in entry.pictures:
        _add_media_content(item, picture)


def _add_media_content(item: Any, picture: Picture) -> None:
    """<media:content> with its thumbnail and its alt text as media:description, which
    Feedly and Inoreader show for the picture."""
    content = etree.SubElement(
        item,
        f"{{{MEDIA_NS}}}content",
        {
            "url": picture.url,
            "type": picture.media_type,
            "medium": "image",
            "width": str(picture.width),
            "height": str(picture.height),
            "fileSize": str(picture.length),
        },
    )
    etree.SubElement(
        content,
        f"{{{MEDIA_NS}}}thumbnail",
        {
            "url": picture.thumbnail_url,
            "width": str(picture.thumbnail_width),
            "height": str(picture.thumbnail_height),
        },
    )
    if picture.alt:
        description = etree.SubElement(content, f"{{{MEDIA_NS}}}description")
        # Text with '<' or '&' in it goes as the HTML that shows it, which no reader can
        # misread as markup (issue 12); other text as itself.
        html = looks_like_markup(picture.alt) or "<" in picture.alt or "&" in picture.alt
        description.set("type", "html" if html else "plain")
        description.text = html_of_text(picture.alt) if html else picture.alt


class RssWriter:
    filename = "feed.xml"
    media_type = "application/rss+xml; charset=utf-8"

    def render(self, feed: Feed) -> bytes:
        fg = FeedGenerator()
        fg.register_extension("feedsvc", _ChannelLinks, _ItemCreator, atom=False, rss=True)
        fg.title(_text(feed.title))
        fg.description(_text(feed.description))
        # The channel <link> is the *last* link given to feedgen (DESIGN.md): give the
        # self link first, the page last.
        fg.link(href=feed.url(self.filename), rel="self", type="application/rss+xml")
        fg.link(href=as_uri(feed.home_url), rel="alternate")  # a URI (tags/外交/: an IRI)
        fg.language(feed.language)
        fg.ttl(feed.ttl_minutes)
        fg.generator("feedsvc")
        # lastBuildDate defaults to now: set it from the data so the bytes are stable.
        fg.lastBuildDate(feed.updated)
        ext: _ChannelLinks = fg.feedsvc  # type: ignore[attr-defined]
        ext.stylesheet = feed.stylesheet_url
        ext.archive = feed.is_archive
        ext.media = any(entry.pictures for entry in feed.entries)
        for rel, folder in (
            ("current", feed.current),
            ("prev-archive", feed.prev_archive),
            ("next-archive", feed.next_archive),
        ):
            if folder is not None:
                ext.links.append(
                    {
                        "rel": rel,
                        "type": "application/rss+xml",
                        "href": feed.url(self.filename, folder),
                    }
                )
        for hub in feed.hubs:  # WebSub section 4: rel="hub" beside rel="self"
            ext.links.append({"rel": "hub", "href": hub})
        for entry in feed.entries:
            # feedgen prepends by default; our entries are already sorted newest first.
            key = (entry, entry.published.utcoffset())
            made = ELEMENTS.element(key, lambda entry=entry: _element(entry))
            fg.add_entry(Made(made), order="append")
        body = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
        return _TEXT_ELEMENT.sub(_with_hex_references, body)


def _element(entry: Entry) -> Any:
    """feedgen's <item> of `entry`, with dc:creator and its files (_ItemCreator)."""
    fe = FeedEntry()
    fe.register_extension("feedsvc", _ItemCreator, atom=False, rss=True)
    fe.guid(entry.id, permalink=False)
    fe.title(_text(entry.title))
    fe.link(href=entry.url)
    # <description> is HTML (RSS 2.0): the summary, which is text, escaped once more, so
    # '<5% of R&D >' is not read as a tag (issue 12).
    fe.description(html_of_text(entry.summary))
    fe.content(entry.content_html, type="html")
    fe.pubDate(entry.published)
    fe.category(categories(entry))
    fe.feedsvc.creator = entry.author
    if entry.pictures or entry.attachments:
        fe.feedsvc.entry = entry
    return fe.rss_entry()
