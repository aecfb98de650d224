"""The page a browser is shown for a feed (issue 12 item 3).

Chromium shows `application/rss+xml`, Atom and JSON Feed as raw source and is removing
XSLT, so a person who follows a feed link gets this page instead: what a feed is, how to
subscribe, the latest entries. It is one more writer of the neutral feed model, beside
the format writers, so it shows exactly what the feed holds; the static export keeps
`feed.xsl` and never writes it.
"""

from __future__ import annotations

from feedsvc.publishing.feed import Feed
from feedsvc.publishing.pages import FeedLink, Pages

# filename -> what a reader calls the format, in the order the page offers them.
FORMATS = (("feed.xml", "RSS"), ("atom.xml", "Atom"), ("feed.json", "JSON Feed"))
_KIND = dict(FORMATS)


class FeedPageWriter:
    media_type = "text/html; charset=utf-8"

    def __init__(self, pages: Pages) -> None:
        self._base = pages.base
        self._template = pages.env.get_template("feed_page.html")

    def render(self, feed: Feed, filename: str) -> bytes:
        """The page for `feed` written as `filename` (feed.xml, atom.xml or feed.json)."""
        if filename not in _KIND:
            raise ValueError(f"no feed format is written as {filename!r}")
        # An archive page does not change: a person who wants new releases subscribes to
        # the current feed (RFC 5005), in the same format.
        folder = feed.current if feed.is_archive and feed.current is not None else feed.folder
        html = self._template.render(
            **{**self._base, "lang": feed.language},
            description=feed.description,
            # <link rel="alternate"> of this feed's three formats: the page points at the
            # feed itself, not at the site's main feed.
            feeds=[FeedLink(feed.title, feed.base_url + feed.folder)],
            feed=feed,
            kind=_KIND[filename],
            filename=filename,
            subscribe_url=feed.url(filename, folder),
            formats=FORMATS,
            formats_url=feed.base_url + feed.folder,
            older=None if feed.prev_archive is None else feed.url(filename, feed.prev_archive),
            newer=None if feed.next_archive is None else feed.url(filename, feed.next_archive),
        )
        return html.encode("utf-8")
