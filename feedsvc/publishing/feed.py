"""What a feed contains, in no format: the neutral model every writer renders.

A feed lives at a folder of the site (`""` for the main feed, `sections/<slug>/`,
`archive/<n>/`); each format writes its own file there (`feed.xml`, `atom.xml`,
`feed.json`), and links between feeds (archives, RFC 5005) stay within one format.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from html.entities import name2codepoint
from typing import Any, Protocol
from urllib.parse import quote, urljoin

from lxml import etree


@dataclass(frozen=True)
class Picture:
    """A picture of an entry (issue 14): its widest width, and its narrowest as thumbnail."""

    url: str  # absolute
    media_type: str
    width: int
    height: int
    length: int  # exact bytes of what `url` serves (RSS enclosure, Media RSS fileSize)
    alt: str
    thumbnail_url: str
    thumbnail_width: int
    thumbnail_height: int


@dataclass(frozen=True)
class Attachment:
    """A file of an entry that is not a picture (issue 14): PDF, document, audio, video."""

    url: str  # absolute
    media_type: str
    length: int  # bytes, served as read
    title: str


@dataclass(frozen=True)
class TagRef:
    """A tag of an entry with its page (issue 17): RSS <category domain>, Atom <category
    scheme label>."""

    name: str  # as the release wrote it
    slug: str  # model.tag_slug(name): the Atom term
    url: str  # absolute URL of the tag's page


@dataclass(frozen=True)
class Entry:
    id: str  # tag URI (RFC 4151): Atom id, RSS guid, JSON Feed id
    url: str
    title: str
    summary: str
    content_html: str  # absolute links only
    published: dt.datetime
    updated: dt.datetime
    section: str
    tags: tuple[str, ...]
    author: str
    language: str
    pictures: tuple[Picture, ...] = ()  # the lead picture first
    attachments: tuple[Attachment, ...] = ()
    # Issue 15: the entry's translations, (language tag, absolute URL of its page): Atom
    # links them (rel="alternate" hreflang, RFC 4287 section 4.2.7.4).
    translations: tuple[tuple[str, str], ...] = ()
    # Issue 17: the tags with their pages (one per slug); without them the writers fall
    # back to `tags`, bare names.
    tag_refs: tuple[TagRef, ...] = ()

    @property
    def image(self) -> Picture | None:
        """The lead picture: the release's front matter `image`, else its first picture."""
        return self.pictures[0] if self.pictures else None

    @property
    def enclosure(self) -> Picture | Attachment | None:
        """RSS allows one enclosure an item: the lead picture, else the first attachment."""
        return self.image or (self.attachments[0] if self.attachments else None)


@dataclass(frozen=True)
class Tombstone:
    """A withdrawn release (RFC 6721 at:deleted-entry)."""

    id: str
    when: dt.datetime
    url: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    description: str
    language: str
    author: str
    base_url: str
    folder: str  # '' | 'sections/<slug>/' | 'archive/<n>/'
    home_url: str  # the HTML page this feed mirrors
    updated: dt.datetime
    entries: tuple[Entry, ...]
    ttl_minutes: int
    stylesheet_url: str
    tombstones: tuple[Tombstone, ...] = ()
    prev_archive: str | None = None  # folder of the next older archive page
    next_archive: str | None = None  # folder of the next newer archive page
    current: str | None = None  # folder of the subscription feed (on archive pages)
    is_archive: bool = False
    hubs: tuple[str, ...] = ()  # WebSub hubs that relay this feed's updates
    # Issue 17: the Atom categories' scheme (RFC 4287 4.2.2.2), the language's tags/ URL.
    tag_scheme: str | None = None

    def url(self, filename: str, folder: str | None = None) -> str:
        return self.base_url + (self.folder if folder is None else folder) + filename


class FeedWriter(Protocol):
    filename: str
    media_type: str

    def render(self, feed: Feed) -> bytes: ...


def categories(entry: Entry, scheme: str | None = None) -> list[dict[str, str]]:
    """feedgen's categories of an entry: its section, then its tags (issue 17). A tag with
    its page is term=slug, label=name and scheme: for Atom (RFC 4287 4.2.2) the language's
    tags/ URL, which with the term names the tag; for RSS (scheme=None) the tag's own page,
    which feedgen writes as <category domain> around the label (RSS 2.0: a domain
    identifies the taxonomy, here the page that lists the tag)."""
    found: list[dict[str, str]] = [{"term": entry.section}]
    if not entry.tag_refs:
        return found + [{"term": t} for t in entry.tags]
    for ref in entry.tag_refs:
        found.append({"term": ref.slug, "label": ref.name, "scheme": scheme or as_uri(ref.url)})
    return found


def as_uri(iri: str) -> str:
    """An IRI as a URI (RFC 3987 3.1: what is not ASCII percent-encoded as UTF-8), for
    where a format wants a URI: RSS <link> (the W3C validator's InvalidUriChar), a
    category's domain, OPML. A section or tag named in Chinese is an IRI (issue 15)."""
    return quote(iri, safe="".join(map(chr, range(0x21, 0x7F))))


def add_stylesheet(root: Any, href: str) -> None:
    """An <?xml-stylesheet?> before the root element, so a browser shows the feed as a
    page (feedsvc/static/feed.xsl)."""
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')
    root.addprevious(pi)


_RELATIVE_REF = re.compile(r'(\s(?:href|src)=")(?![a-zA-Z][a-zA-Z0-9+.-]*:|#)([^"]*)"')
_SRCSET = re.compile(r'(\ssrcset=")([^"]*)"')
_ABSOLUTE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def absolute_links(html: str, page_url: str) -> str:
    """Resolve relative href/src (and each URL of a srcset) against the release's page: feed
    readers have no base URL for content (the W3C validator warns 'ContainsRelRef')."""
    if ' href="' not in html and ' src="' not in html:
        return html
    html = _RELATIVE_REF.sub(lambda m: f'{m.group(1)}{urljoin(page_url, m.group(2))}"', html)
    if ' srcset="' not in html:
        return html
    return _SRCSET.sub(lambda m: f'{m.group(1)}{_absolute_srcset(m.group(2), page_url)}"', html)


def _absolute_srcset(srcset: str, page_url: str) -> str:
    """'a.jpg 480w, b.jpg 800w' with each URL resolved (HTML: image candidate strings)."""
    candidates = []
    for candidate in srcset.split(","):
        url, _, descriptor = candidate.strip().partition(" ")
        if url and not _ABSOLUTE.match(url):
            url = urljoin(page_url, url)
        candidates.append(f"{url} {descriptor}".rstrip())
    return ", ".join(candidates)


# What a reader takes for markup in a text field: an end tag (feedparser's guess, the W3C
# validator's ContainsHTML) or a character reference, with or without its ';' (the
# validator flags '&amp' too).  Issue 12.
_END_TAG = re.compile(r"</\w+>")
_REFERENCE = re.compile(r"&(#?\w+)(;?)")


def looks_like_markup(text: str) -> bool:
    """Whether a reader that guesses would read this plain text as HTML."""
    if _END_TAG.search(text):
        return True
    return any(
        semicolon or name in name2codepoint or name == "apos" or not name.isalpha()
        for name, semicolon in _REFERENCE.findall(text)
    )


def html_of_text(text: str) -> str:
    """HTML whose text is `text`: where a format says HTML (RSS description, Atom
    type="html"), plain text is escaped once more, so `A&B <b>` stays that text."""
    return html.escape(text, quote=False)
