"""A language's tags as documents (issue 17 item 2): each tag's page and feeds, as a
section's, and the tags/ page listing every tag with its count.

A tag is named by its slug (`model.tag_slug`, as the store's `release_tags` rows have it)
and shown by the name a release gave it; its feed ids are `...:feed:tag:<slug>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from feedsvc import layout
from feedsvc.model import ListedRelease
from feedsvc.publishing.pages import FeedLink
from feedsvc.publishing.site import HTML, Document, Site, newest_of
from feedsvc.store.release_reads import TagCount


class TagDocuments:
    """The tag documents of one `Site` (one language)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def all(self) -> Iterator[Document]:
        """Every tag's feeds and page, then the tags/ page (for the export)."""
        tags = self.site.store.tags()
        for slug, name, _ in tags:
            yield from self.feeds(slug, name)
            yield self.page(slug, name)
        yield self.index(tags)

    def changed(self, slugs: Iterable[str]) -> list[Document]:
        """The feeds of the tags a change touched (Changes.tags, in this language)."""
        wanted = set(slugs)
        if not wanted:
            return []
        return [
            doc for slug, name, _ in self.site.store.tags(wanted) for doc in self.feeds(slug, name)
        ]

    def feeds(self, slug: str, name: str) -> Iterator[Document]:
        """The tag's RSS, Atom and JSON feeds: its newest feeds.limit visible releases and
        the tombstones of those withdrawn lately, with the site's hubs (WebSub)."""
        site = self.site
        folder = layout.tag_page(slug)
        yield from site.render_feed(
            site.make_feed(
                feed_id=site.feed_id(f"feed:tag:{slug}"),
                title=f"{site.site.title}: {name}",
                folder=folder,
                home_url=site.site.base_url + folder,
                releases=site.store.tag_latest(slug, site.feeds.limit),
                tombstones=site.store.tag_withdrawn_since(site.tombstone_cutoff(), slug),
            )
        )

    def page(self, slug: str, name: str) -> Document:
        """The tag's HTML page: its newest feeds.limit visible releases, as a section's
        page, with its feeds for autodiscovery."""
        site = self.site
        folder = layout.tag_page(slug)
        newest = site.store.tag_latest(slug, site.feeds.limit)
        listed = [ListedRelease.of(s) for s in newest]
        body = site.pages.index(
            listed,
            page=1,
            newer=None,
            older=None,
            heading=name,
            feed=FeedLink(f"{site.site.title}: {name}", site.site.base_url + folder),
            canonical=site.site.base_url + folder,
        )
        return Document(site.prefix + folder, HTML, body, modified=newest_of(listed))

    def index(self, tags: list[TagCount] | None = None) -> Document:
        """tags/: every tag of the language that has a visible release, by name, with its
        count of visible releases."""
        site = self.site
        tags = site.store.tags() if tags is None else tags
        shown = sorted(((name, slug, n) for slug, name, n in tags if n > 0), key=_by_name)
        pages = site.pages
        body = pages.env.get_template("tags.html").render(
            **pages.base,
            tags=shown,
            feeds=[pages.main_feed],
            canonical=site.site.base_url + layout.tags(),
            description=site.site.description,
        )
        return Document(site.prefix + layout.tags(), HTML, body.encode("utf-8"))


def _by_name(shown: tuple[str, str, int]) -> tuple[str, str]:
    return (shown[0].casefold(), shown[1])
