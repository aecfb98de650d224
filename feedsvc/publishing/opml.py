"""OPML 2.0 subscription lists (http://opml.org/spec2.opml, issue 17): a reader imports
every feed of the site in one step.

The spec's subscription list: `<opml version="2.0">`, a `<head>` with the title, the
dates (RFC 822) and the owner, and in `<body>` one `<outline type="rss">` a feed with
`text`, `title`, `xmlUrl` (required), `htmlUrl` and `version`; folders are outlines with
only `text`, as readers (Feedly, Inoreader, NetNewsWire) export categories. URLs are
written as URIs (non-ASCII percent-encoded, RFC 3987 3.1): importers are not all IRI-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime

from lxml import etree

from feedsvc.publishing.feed import as_uri

# No registered type; text/x-opml is what readers' exports send and their imports accept.
OPML = "text/x-opml; charset=utf-8"
DOCS = "http://opml.org/spec2.opml"


@dataclass(frozen=True)
class Outline:
    """A feed (with `xml_url`) or a folder of them (`children`)."""

    text: str
    children: tuple[Outline, ...] = ()
    xml_url: str | None = None  # absolute; RSS 2.0
    html_url: str | None = None


def render_opml(
    *,
    title: str,
    created: dt.datetime,
    modified: dt.datetime,
    owner: str,
    language: str,
    outlines: Sequence[Outline],
) -> bytes:
    """The document; the same arguments give the same bytes."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    for name, value in (
        ("title", title),
        ("dateCreated", format_datetime(created.astimezone(dt.UTC), usegmt=True)),
        ("dateModified", format_datetime(modified.astimezone(dt.UTC), usegmt=True)),
        ("ownerName", owner),
        ("docs", DOCS),
    ):
        etree.SubElement(head, name).text = value
    body = etree.SubElement(root, "body")
    for outline in outlines:
        _outline(body, outline, language)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _outline(parent: etree._Element, outline: Outline, language: str) -> None:
    if outline.xml_url is None:
        folder = etree.SubElement(parent, "outline", text=outline.text)
        for child in outline.children:
            _outline(folder, child, language)
        return
    attributes = {
        "type": "rss",
        "version": "RSS2",
        "text": outline.text,
        "title": outline.text,
        "xmlUrl": as_uri(outline.xml_url),
    }
    if outline.html_url is not None:
        attributes["htmlUrl"] = as_uri(outline.html_url)
    attributes["language"] = language
    etree.SubElement(parent, "outline", attributes)
