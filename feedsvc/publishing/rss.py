"""RSS 2.0 with feedgen, and the workarounds its defects need (see DESIGN.md)."""

from __future__ import annotations

from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.publishing.feed import Feed, add_stylesheet

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"


class _ChannelLinks:
    """feedgen writes only the first atom:link rel="self" into RSS and drops every other
    (hub, prev-archive, ...); this extension writes the ones feedgen drops."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.stylesheet: str | None = None
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS, "fh": FH_NS}

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
    """RSS <author> must be an email address; a name goes in dc:creator."""

    def __init__(self) -> None:
        self.creator: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    def extend_rss(self, item: Any) -> Any:
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        return item

    def extend_atom(self, entry: Any) -> Any:
        return entry


class RssWriter:
    filename = "feed.xml"
    media_type = "application/rss+xml; charset=utf-8"

    def render(self, feed: Feed) -> bytes:
        fg = FeedGenerator()
        fg.register_extension("feedsvc", _ChannelLinks, _ItemCreator, atom=False, rss=True)
        fg.title(feed.title)
        fg.description(feed.description)
        # The channel <link> is the *last* link given to feedgen (DESIGN.md): give the
        # self link first, the page last.
        fg.link(href=feed.url(self.filename), rel="self", type="application/rss+xml")
        fg.link(href=feed.home_url, rel="alternate")
        fg.language(feed.language)
        fg.ttl(feed.ttl_minutes)
        fg.generator("feedsvc")
        # lastBuildDate defaults to now: set it from the data so the bytes are stable.
        fg.lastBuildDate(feed.updated)
        ext: _ChannelLinks = fg.feedsvc  # type: ignore[attr-defined]
        ext.stylesheet = feed.stylesheet_url
        ext.archive = feed.is_archive
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
            fe = fg.add_entry(order="append")
            fe.guid(entry.id, permalink=False)
            fe.title(entry.title)
            fe.link(href=entry.url)
            fe.description(entry.summary)
            fe.content(entry.content_html, type="html")
            fe.pubDate(entry.published)
            fe.category([{"term": entry.section}] + [{"term": t} for t in entry.tags])
            fe.feedsvc.creator = entry.author
        return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
