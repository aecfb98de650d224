"""The site in one language: every document feedsvc publishes in it, rendered from the
store (`publishing/sites.py` puts the languages together, issue 15).

Where each lives is `feedsvc.layout`'s, the same for the live server and the static export
(which writes a folder's document as its index.html); a language other than the site's own
has its documents under its tag (`Language.prefix`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from feedsvc import layout
from feedsvc.clock import Clock
from feedsvc.config import (
    AlertSettings,
    FeedsSettings,
    PagesSettings,
    ShareSettings,
    SiteSettings,
    WebSubSettings,
)
from feedsvc.languages import Language, Languages
from feedsvc.model import Changes, ListedRelease, StoredRelease
from feedsvc.publishing.alternates import Translations
from feedsvc.publishing.atom import AtomWriter
from feedsvc.publishing.feed import (
    Entry,
    Feed,
    FeedWriter,
    Tombstone,
    absolute_links,
    as_uri,
)
from feedsvc.publishing.feed_page import FeedPageWriter
from feedsvc.publishing.jsonfeed import JsonFeedWriter
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.packing import FAST, SMALL
from feedsvc.publishing.pages import FeedLink, Pages
from feedsvc.publishing.release_files import FeedFiles, ReleaseFiles
from feedsvc.publishing.rss import RssWriter
from feedsvc.publishing.tag_refs import tag_refs
from feedsvc.store.release_reads import ReleaseReads

if TYPE_CHECKING:
    from feedsvc.publishing.feed_directory import FeedDirectory
    from feedsvc.publishing.tag_documents import TagDocuments

WRITERS: tuple[FeedWriter, ...] = (RssWriter(), AtomWriter(), JsonFeedWriter())
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
ASSETS = {
    "style.css": "text/css; charset=utf-8",
    "feed.xsl": "text/xsl; charset=utf-8",
    "share.js": "text/javascript; charset=utf-8",
}


# Precompression (nginx gzip_static) of feeds and sitemaps: the hot, small documents get
# a good ratio; archive pages (large, rarely fetched, never changing) a fast compressor.
GZIP_HOT, GZIP_COLD = SMALL, FAST


@dataclass(frozen=True)
class Document:
    path: str  # relative to base_url: 'feed.xml', 'releases/<id>/', '' for the home page
    media_type: str
    body: bytes
    gzip_level: int | None = None  # write a precompressed .gz sibling at this level
    modified: dt.datetime | None = None  # newest change in the data it shows (Last-Modified)
    links: tuple[tuple[str, str], ...] = ()  # (url, rel): HTTP Link headers (RFC 8288)
    # The model a feed document was written from, for its browser page (feed_page); the
    # export never looks at it.
    feed: Feed | None = field(default=None, compare=False, repr=False)

    @property
    def file(self) -> str:
        """Where the static export writes it."""
        return self.path + "index.html" if self.path == "" or self.path.endswith("/") else self.path


class Site:
    def __init__(
        self,
        store: ReleaseReads,
        clock: Clock,
        *,
        site: SiteSettings,
        feeds: FeedsSettings,
        pages: PagesSettings,
        websub: WebSubSettings,
        share: ShareSettings,
        media: ReleaseMedia | None = None,
        languages: Languages | None = None,
        language: Language | None = None,
        page_maker: Pages | None = None,
        alerts: AlertSettings | None = None,
    ) -> None:
        # Issue 15: `site` as this language shows it (title, description, language, and a
        # base_url ending in its folder); `root` as configured, for what exists once.
        self.languages = languages or Languages(site)
        self.language = language or self.languages.default
        self.root = site
        self.site = self.language.site
        self.prefix = self.language.prefix
        self.scope = self.language.scope
        self.feeds = feeds
        self.per_page = pages.per_page
        self.hubs = websub.hubs
        self.store = store.in_language(self.scope)
        self.clock = clock
        # Without media (callers that predate issue 14) pictures are left as the text has them.
        self.media = media
        self.files = ReleaseFiles(media) if media is not None else None
        # Issue 16: the subscribe form on its pages, unless alerts.enabled is false.
        self.pages = page_maker or Pages(site, share, self.files, alerts=alerts)
        self._id_prefix = f"tag:{site.id_authority},{site.id_date}:"
        # Feed ids of another language keep its feeds apart from the site's own.
        self._id_suffix = "" if self.scope is None else f":{self.scope}"
        self.translations = Translations(store, self.languages, self.language, site)
        self.epoch = dt.datetime.combine(
            dt.date.fromisoformat(site.id_date), dt.time(), tzinfo=site.tz
        )

    # -- everything ------------------------------------------------------------------------

    def documents(
        self,
        part: int = 0,
        parts: int = 1,
        progress: Callable[[int], None] | None = None,
        listing: Sequence[ListedRelease] | None = None,
    ) -> Iterator[Document]:
        """Every document of the site in this language, or one of `parts` disjoint parts of
        it (for rendering in parallel processes). Release pages stream from the store. The
        assets and the sitemap, which exist once, are `Sites.documents`'. `listing`: every
        visible release of the language, newest first, when the caller has read it."""
        self.translations.preload()
        if part == 0:
            yield from self.main_feeds()
            for slug, name in self.store.sections():
                yield from self.section_documents(slug, name)
            yield from self.index_pages(self.store.listing() if listing is None else listing)
            yield self.not_found_page()
            yield from self.tags.all()  # issue 17: tags/, each tag's page and feeds
            yield from (self.directory.page(), self.directory.opml())  # feeds/, feeds.opml
        yield from self.archive_documents(range(1 + part, self.archive_pages() + 1, parts))
        for done, stored in enumerate(self.store.iter_visible(part=part, parts=parts), start=1):
            yield self.release_page(stored)
            if progress is not None:
                progress(done)

    def changed_feeds(self, changes: Changes) -> list[Document]:
        """The feeds an ingest changed, and nothing else: the main feeds, the sections the
        changed releases are (or were) in, the archive pages holding them. `changes` is
        this language's part (Changes.in_scope)."""
        if not changes:
            return []
        docs = list(self.main_feeds())
        names = dict(self.store.sections(changes.sections))
        for slug in sorted(changes.sections):
            docs.extend(self.section_feeds(slug, names.get(slug, slug)))
        docs.extend(self.archive_documents(sorted(self.archive_pages_changed(changes))))
        return docs + self.tags.changed(changes.tags)

    def prepare_media(self, ids: Iterable[str]) -> int:
        """Before a change's feeds are rendered: make the pictures whose exact lengths they
        give, side by side (ReleaseMedia.prepare); of the newest feeds.limit changed
        releases only (a first import of thousands leaves the rest to the render)."""
        if self.media is None:
            return 0
        shown = self.store.newest_media(ids, self.feeds.limit)
        return self.media.prepare([ref for media in shown for ref in media], os.cpu_count() or 1)

    def archive_pages_changed(self, changes: Changes) -> set[int]:
        """The archive pages a change touches: those holding its releases, and the page
        before a page the change opens (its first seq: the page before now links to it).
        Issue 18: not the page before every page touched, which made every new release
        render two full archive pages (100 entries in three formats each) instead of one."""
        size = self.feeds.archive_page_size
        seqs = [seq for scope, seq in changes.seqs if scope == self.scope]
        pages = {(seq - 1) // size + 1 for seq in seqs}
        return pages | {(seq - 1) // size for seq in seqs if seq > size and (seq - 1) % size == 0}

    # -- feeds -----------------------------------------------------------------------------

    def main_feeds(self) -> Iterator[Document]:
        site, feeds = self.site, self.feeds
        pages = self.archive_pages()
        yield from self.render_feed(
            self.make_feed(
                feed_id=self.feed_id("feed"),
                title=site.title,
                folder="",
                home_url=site.base_url,
                releases=self.store.latest(feeds.limit),
                tombstones=self.store.withdrawn_since(self.tombstone_cutoff()),
                prev_archive=layout.archive(pages) if pages else None,
            )
        )

    def feed_id(self, kind: str) -> str:
        """A feed's tag URI: `kind` is 'feed', 'feed:section:<slug>', 'feed:tag:<slug>'..."""
        return self._id_prefix + kind + self._id_suffix

    def section_feeds(self, slug: str, name: str) -> Iterator[Document]:
        site = self.site
        folder = layout.section(slug)
        yield from self.render_feed(
            self.make_feed(
                feed_id=self.feed_id(f"feed:section:{slug}"),
                title=f"{site.title}: {self.language.section_name(name)}",
                folder=folder,
                home_url=site.base_url + folder,
                releases=self.store.latest(self.feeds.limit, slug),
                tombstones=self.store.withdrawn_since(self.tombstone_cutoff(), slug),
            )
        )

    def section_documents(self, slug: str, name: str) -> Iterator[Document]:
        yield from self.section_feeds(slug, name)
        yield self.section_page(slug, name)

    def section_page(self, slug: str, name: str) -> Document:
        """The section's HTML page: its newest feeds.limit releases."""
        site = self.site
        folder = layout.section(slug)
        listed = [ListedRelease.of(s) for s in self.store.latest(self.feeds.limit, slug)]
        name = self.language.section_name(name)
        body = self.pages.index(
            listed,
            page=1,
            newer=None,
            older=None,
            heading=name,
            feed=FeedLink(f"{site.title}: {name}", site.base_url + folder),
            canonical=site.base_url + folder,
            alternates=self.translations.links(folder, self.translations.section_scopes(slug)),
        )
        return Document(self.prefix + folder, HTML, body, modified=newest_of(listed))

    def archive_pages(self) -> int:
        return math.ceil(self.store.max_seq() / self.feeds.archive_page_size)

    def archive_documents(self, numbers: Iterable[int]) -> Iterator[Document]:
        """RFC 5005 archive pages: page n holds the releases first published n-th in
        archive_page_size order, so a full page never changes unless a release on it does."""
        last = self.archive_pages()
        for n in numbers:
            if 1 <= n <= last:
                yield from self.archive_page(n, last, self.archive_releases(n))

    def archive_releases(self, n: int) -> list[StoredRelease]:
        """The releases archive page `n` holds (every visible release is on one page)."""
        size = self.feeds.archive_page_size
        return self.store.by_seq((n - 1) * size + 1, n * size)

    def archive_page(self, n: int, last: int, releases: list[StoredRelease]) -> Iterator[Document]:
        """Archive page `n` of `last`, of its `releases` (archive_releases(n))."""
        site = self.site
        yield from self.render_feed(
            self.make_feed(
                feed_id=self.feed_id(f"feed:archive:{n}"),
                title=f"{site.title} (archive page {n})",  # no total: full pages never change
                folder=layout.archive(n),
                home_url=site.base_url,
                releases=releases,
                prev_archive=layout.archive(n - 1) if n > 1 else None,
                next_archive=layout.archive(n + 1) if n < last else None,
                current="",
                is_archive=True,
            )
        )

    def make_feed(
        self,
        *,
        feed_id: str,
        title: str,
        folder: str,
        home_url: str,
        releases: list[StoredRelease],
        tombstones: list[StoredRelease] | None = None,
        prev_archive: str | None = None,
        next_archive: str | None = None,
        current: str | None = None,
        is_archive: bool = False,
    ) -> Feed:
        site = self.site
        translated = self.translations.scopes([s.id for s in releases])
        entries = tuple(self._entry(s, translated.get(s.id, ())) for s in releases)
        graves = tuple(
            Tombstone(
                id=s.tag_uri(site.id_authority),
                when=s.withdrawn_at.astimezone(site.tz),  # type: ignore[union-attr]
                url=self.pages.release_url(s.id),
            )
            for s in tombstones or ()
        )
        moments = [e.updated for e in entries] + [g.when for g in graves]
        return Feed(
            id=feed_id,
            title=title,
            description=site.description,
            language=site.language,
            author=site.author,
            base_url=site.base_url,
            folder=folder,
            home_url=home_url,
            # The newest change in the data, never the build time: same data, same bytes.
            updated=max(moments, default=self.epoch),
            entries=entries,
            ttl_minutes=self.feeds.ttl_minutes,
            stylesheet_url=site.base_url + layout.asset("feed.xsl"),
            tombstones=graves,
            prev_archive=prev_archive,
            next_archive=next_archive,
            current=current,
            is_archive=is_archive,
            hubs=() if is_archive else self.hubs,
            tag_scheme=site.base_url + layout.tags(),
        )

    def _entry(self, stored: StoredRelease, scopes: Iterable[str] = ()) -> Entry:
        r, site = stored.release, self.site
        url = self.pages.release_url(r.id)
        files = self.files.feed(r, site.base_url) if self.files and r.media else None
        files = files or FeedFiles(r.body_html)
        return Entry(
            id=stored.tag_uri(site.id_authority),
            url=url,
            title=r.title,
            summary=r.summary,
            # Issue 17: the end of the release (notes, about, media contact), as on its page.
            content_html=absolute_links(files.content_html + self.pages.release_end(r), url),
            published=r.published.astimezone(site.tz),
            updated=stored.updated.astimezone(site.tz),
            section=r.section,
            tags=r.tags,
            tag_refs=tag_refs(r.tags, site.base_url),  # issue 17: each with its page
            author=r.author or site.author,
            language=r.language,
            pictures=files.pictures,
            attachments=files.attachments,
            translations=tuple(
                (a.language.tag, a.url)
                for a in self.translations.links(layout.release(r.id), set(scopes))
                if a.translated and not a.current
            ),
        )

    def render_feed(self, feed: Feed) -> Iterator[Document]:
        for writer in WRITERS:
            level = GZIP_COLD if feed.is_archive else GZIP_HOT
            body = writer.render(feed)
            # WebSub section 4: discovery by HTTP Link headers, for subscribers that do
            # not parse the body.
            # A header carries a URI (RFC 8288), not an IRI: tags/外交/ percent-encoded.
            self_url = as_uri(feed.url(writer.filename))
            links = (*((hub, "hub") for hub in feed.hubs), (self_url, "self"))
            yield Document(
                self.prefix + feed.folder + writer.filename,
                writer.media_type,
                body,
                level,
                feed.updated,
                links if feed.hubs else (),
                feed,
            )

    def feed_page(self, doc: Document) -> Document | None:
        """What a browser navigating to the feed `doc` is shown instead of its source
        (issue 12 item 3); None for a document that is not a feed. Served only: the static
        export has no way to tell a browser from a feed reader and keeps feed.xsl."""
        if doc.feed is None:
            return None
        body = self._feed_pages.render(doc.feed, doc.path.rpartition("/")[2])
        return Document(doc.path, HTML, body)

    # -- issue 17: tags (tag_documents.py), feeds/ and feeds.opml (feed_directory.py) -------

    def tag_feeds(self, slug: str, name: str) -> Iterator[Document]:
        return self.tags.feeds(slug, name)

    def tag_page(self, slug: str, name: str) -> Document:
        return self.tags.page(slug, name)

    def tags_page(self) -> Document:
        return self.tags.index()

    @cached_property
    def tags(self) -> TagDocuments:
        from feedsvc.publishing.tag_documents import TagDocuments  # it builds on Site

        return TagDocuments(self)

    @cached_property
    def directory(self) -> FeedDirectory:
        from feedsvc.publishing.feed_directory import FeedDirectory  # it builds on Site

        return FeedDirectory(self)

    @cached_property
    def _feed_pages(self) -> FeedPageWriter:
        return FeedPageWriter(self.pages)  # compiled on first use: `build` never needs it

    def tombstone_cutoff(self) -> dt.datetime:
        return self.clock.now() - dt.timedelta(days=self.feeds.tombstone_days)

    # -- pages -----------------------------------------------------------------------------

    def release_page(self, stored: StoredRelease) -> Document:
        rel = layout.release(stored.id)
        scopes = self.translations.scopes([stored.id]).get(stored.id, set())
        body = self.pages.release(stored, alternates=self.translations.links(rel, scopes))
        return Document(self.prefix + rel, HTML, body, modified=stored.updated)

    def index_pages(self, listing: Sequence[ListedRelease]) -> Iterator[Document]:
        """The HTML index, newest first, pages.per_page a page."""
        per_page = self.per_page
        total = self.index_page_count(len(listing))
        for n in range(1, total + 1):
            yield self._index_page(n, total, listing[(n - 1) * per_page : n * per_page])

    def index_page_count(self, visible: int) -> int:
        """How many pages the HTML index of `visible` releases has (the home page at least)."""
        return max(1, math.ceil(visible / self.per_page))

    def index_page(self, n: int) -> Document | None:
        """One page of the HTML index, read from the store (for the live server)."""
        per_page = self.per_page
        total = self.index_page_count(self.store.visible_count())
        if not 1 <= n <= total:
            return None
        return self._index_page(n, total, self.store.listing((n - 1) * per_page, per_page))

    def _index_page(self, n: int, total: int, listed: Sequence[ListedRelease]) -> Document:
        base, base_url = self.site.base_path, self.site.base_url
        body = self.pages.index(
            listed,
            page=n,
            newer=base + layout.index_page(n - 1) if n > 1 else None,
            older=base + layout.index_page(n + 1) if n < total else None,
            canonical=base_url + layout.index_page(n),
            alternates=self.translations.links("") if n == 1 else (),
        )
        return Document(self.prefix + layout.index_page(n), HTML, body, modified=newest_of(listed))

    def not_found_page(self) -> Document:
        return Document(self.prefix + layout.not_found_page(), HTML, self.pages.simple("404.html"))


def newest_of(listed: Sequence[ListedRelease]) -> dt.datetime | None:
    return max((r.updated for r in listed), default=None)
