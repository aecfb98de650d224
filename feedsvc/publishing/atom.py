"""Atom 1.0 (RFC 4287) with feedgen, plus RFC 5005 archives and RFC 6721 tombstones."""

from __future__ import annotations

from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.publishing.entry_elements import ELEMENTS, Made
from feedsvc.publishing.feed import (
    Entry,
    Feed,
    Tombstone,
    add_stylesheet,
    categories,
    html_of_text,
    looks_like_markup,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
FH_NS = "http://purl.org/syndication/history/1.0"


def _set_text(parent: Any, name: str, text: str) -> None:
    """An Atom text construct (RFC 4287 3.1) holding `text`: type="text" unless the text
    looks like markup to a reader (the W3C validator's ContainsUndeclaredHTML), then
    type="html" with the HTML that shows it (issue 12)."""
    el = parent.find(f"{{{ATOM_NS}}}{name}")
    if el is None:
        el = parent.find(name)  # an entry's children take the Atom namespace on append
    if el is None or not looks_like_markup(text):
        return
    el.set("type", "html")
    el.text = html_of_text(text)


class _FeedExtras:
    def __init__(self) -> None:
        self.tombstones: tuple[Tombstone, ...] = ()
        self.archive = False
        self.stylesheet: str | None = None
        self.texts: dict[str, str] = {}  # text construct -> its text

    def extend_ns(self) -> dict[str, str]:
        # The W3C validator warns UnknownNamespace for RFC 6721 wherever it is declared:
        # declare it only in a document that carries a tombstone (issue 12).
        return {"at": TOMBSTONES_NS, "fh": FH_NS} if self.tombstones else {"fh": FH_NS}

    def extend_atom(self, feed: Any) -> Any:
        for name, text in self.texts.items():
            _set_text(feed, name, text)
        if self.archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        for gone in self.tombstones:
            etree.SubElement(
                feed,
                f"{{{TOMBSTONES_NS}}}deleted-entry",
                {"ref": gone.id, "when": gone.when.isoformat()},
            )
        if self.stylesheet:
            add_stylesheet(feed, self.stylesheet)
        return feed

    def extend_rss(self, rss: Any) -> Any:
        return rss


class _EntryLinks:
    """feedgen drops rel and type from Atom entry links (feedgen issue 135): write them.
    feedgen has no type for a title either: give one where the text needs it."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.title = ""

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: Any) -> Any:
        _set_text(entry, "title", self.title)
        # Unqualified, like feedgen's own elements: they take the feed's default Atom
        # namespace when the entry is appended (a prefixed atom:link would be flagged
        # "Avoid Namespace Prefix" by the W3C validator).
        for link in self.links:
            etree.SubElement(entry, "link", link)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item


def _enclosures(entry: Entry) -> list[dict[str, str]]:
    """RFC 4287 4.2.7.2: rel="enclosure" for each file, with its type and length in bytes;
    the title says what it is (a picture's alt text, an attachment's title)."""
    files = [(p.url, p.media_type, p.length, p.alt) for p in entry.pictures]
    files += [(a.url, a.media_type, a.length, a.title) for a in entry.attachments]
    return [
        {"rel": "enclosure", "href": url, "type": kind, "length": str(length)}
        | ({"title": title} if title else {})
        for url, kind, length, title in files
    ]


class AtomWriter:
    filename = "atom.xml"
    media_type = "application/atom+xml; charset=utf-8"

    def render(self, feed: Feed) -> bytes:
        fg = FeedGenerator()
        fg.register_extension("feedsvc", _FeedExtras, _EntryLinks, atom=True, rss=False)
        fg.id(feed.id)
        fg.title(feed.title)
        fg.subtitle(feed.description)
        fg.author({"name": feed.author})
        fg.language(feed.language)
        fg.generator("feedsvc")
        # updated defaults to now: set it from the data so the bytes are stable.
        fg.updated(feed.updated)
        fg.link(href=feed.url(self.filename), rel="self", type="application/atom+xml")
        fg.link(href=feed.home_url, rel="alternate", type="text/html")
        for rel, folder in (
            ("current", feed.current),
            ("prev-archive", feed.prev_archive),
            ("next-archive", feed.next_archive),
        ):
            if folder is not None:
                fg.link(href=feed.url(self.filename, folder), rel=rel, type="application/atom+xml")
        for hub in feed.hubs:  # WebSub section 4: rel="hub" beside rel="self"
            fg.link(href=hub, rel="hub")
        extras: _FeedExtras = fg.feedsvc  # type: ignore[attr-defined]
        extras.tombstones = feed.tombstones
        extras.archive = feed.is_archive
        extras.stylesheet = feed.stylesheet_url
        extras.texts = {"title": feed.title, "subtitle": feed.description}
        for entry in feed.entries:
            key = (entry, entry.published.utcoffset(), entry.updated.utcoffset(), feed.tag_scheme)
            made = ELEMENTS.element(key, lambda entry=entry: _element(entry, feed.tag_scheme))
            fg.add_entry(Made(made), order="append")
        return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _element(entry: Entry, tag_scheme: str | None) -> Any:
    """feedgen's <entry> of `entry`, with our extension's links and title type."""
    fe = FeedEntry()
    fe.register_extension("feedsvc", _EntryLinks, atom=True, rss=False)
    fe.id(entry.id)
    fe.title(entry.title)
    fe.published(entry.published)
    fe.updated(entry.updated)
    fe.author({"name": entry.author})
    if looks_like_markup(entry.summary):
        fe.summary(html_of_text(entry.summary), type="html")
    else:
        fe.summary(entry.summary)
    # type='CDATA' would be invalid Atom; 'html' escapes the markup as RFC 4287 wants.
    fe.content(entry.content_html, type="html")
    fe.category(categories(entry, tag_scheme))
    fe.feedsvc.links.append({"rel": "alternate", "type": "text/html", "href": entry.url})
    fe.feedsvc.links.extend(
        {"rel": "alternate", "type": "text/html", "hreflang": tag, "href": url}
        for tag, url in entry.translations
    )
    fe.feedsvc.links.extend(_enclosures(entry))
    fe.feedsvc.title = entry.title
    return fe.atom_entry()
