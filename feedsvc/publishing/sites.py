"""The site in all its languages (issue 15): one `Site` per language, and what exists once
(the assets, the sitemap listing every language's pages with their alternates).

A site of one language is a `Sites` with one `Site`: its documents and bytes are what they
were before languages existed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

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
from feedsvc.config.contacts import Contact
from feedsvc.languages import Languages
from feedsvc.model import Changes, ListedRelease
from feedsvc.publishing import news_sitemap, sitemap
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.pages import Pages
from feedsvc.publishing.site import ASSETS, GZIP_HOT, XML, Document, Site
from feedsvc.store.build_reads import SitemapEntry
from feedsvc.store.news_reads import NewsReads
from feedsvc.store.release_reads import ReleaseReads

# A language's visible releases, newest first, as the sitemap reads them: the index pages'
# listing, or only what the sitemap shows of it (issue 18, groups.py).
Listing = Sequence[ListedRelease] | Sequence[SitemapEntry]


@dataclass(frozen=True)
class _Listed:
    """One language's part of the sitemap: where its section pages sit among the URLs,
    dated only when a sitemap document showing them is made."""

    site: Site
    sections: list[str]  # slugs
    first: int  # index of its first section page among the URLs
    listing: Listing | None


class Sites:
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
        alerts: AlertSettings | None = None,
        contacts: Mapping[str, Contact] | None = None,
    ) -> None:
        self.languages = languages or Languages(site)
        self.root = site
        self.store = store
        self.feeds = feeds
        sections = dict(site=site, feeds=feeds, pages=pages, websub=websub, share=share)
        self.default = Site(
            store, clock, media=media, languages=self.languages, alerts=alerts, **sections
        )
        # Issue 17: the media contacts, given to the default language's pages before the
        # other languages copy them (Pages.in_language).
        self.default.pages.contacts = dict(contacts or {})
        self.clock = clock
        self.news = NewsReads(store.engine)
        self.all: tuple[Site, ...] = (
            self.default,
            *(
                Site(
                    store,
                    clock,
                    media=media,
                    languages=self.languages,
                    language=language,
                    page_maker=self.default.pages.in_language(language),
                    **sections,
                )
                for language in self.languages.others
            ),
        )
        self._by_scope = {s.scope: s for s in self.all}
        self.prefixed = self.languages.prefixed  # layout.parse's languages

    @property
    def pages(self) -> Pages:
        """The default language's pages."""
        return self.default.pages

    def of(self, scope: str | None) -> Site | None:
        """The Site of a language scope (None: the site's own), or None."""
        return self._by_scope.get(scope)

    # -- everything ------------------------------------------------------------------------

    def documents(
        self, part: int = 0, parts: int = 1, progress: Callable[[int], None] | None = None
    ) -> Iterator[Document]:
        """Every document of every language, or one of `parts` disjoint parts of them. Each
        language's listing is read once, for the sitemap and its index pages both."""
        listings: dict[str | None, list[ListedRelease]] = {}
        if part == 0:
            yield from self.assets()
            listings = {site.scope: site.store.listing() for site in self.all}
            yield from self.sitemaps(listings=listings)
            yield self.news_sitemap().document
            yield self.robots()
        for site in self.all:
            yield from site.documents(part, parts, progress, listing=listings.pop(site.scope, None))

    def changed_feeds(self, changes: Changes) -> list[Document]:
        """The feeds a change touched, in each language it touched."""
        return [
            doc for site in self.all for doc in site.changed_feeds(changes.in_scope(site.scope))
        ]

    def scope_of(self, path: str) -> str | None:
        """The language a path (relative to base_url) lies in: the tag of its first
        segment when that is another language's folder, else None (the site's own)."""
        first = path.partition("/")[0]
        return first if first in self.prefixed else None

    def feed_page(self, doc: Document) -> Document | None:
        """The browser page of a feed document, in the feed's language (Site.feed_page)."""
        return (self.of(self.scope_of(doc.path)) or self.default).feed_page(doc)

    def prepare_media(self, keys: Iterable[str]) -> int:
        return self.default.prepare_media(keys)

    # -- what exists once ------------------------------------------------------------------

    def assets(self) -> Iterator[Document]:
        """The stylesheets shipped with feedsvc; Last-Modified is the installed file's."""
        static = Path(str(files("feedsvc") / "static"))
        for name, media_type in ASSETS.items():
            path = static / name
            modified = dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.UTC)
            yield Document(layout.asset(name), media_type, path.read_bytes(), modified=modified)

    def sitemap_urls(self, visible: Sequence[int], sections: Sequence[int]) -> int:
        """How many URLs sitemaps() lists: every language's index pages, sections and
        releases (visible and sections: counts per language, in the order of `all`)."""
        return sum(
            site.index_page_count(v) + n
            for site, v, n in zip(self.all, visible, sections, strict=True)
        ) + sum(visible)

    def sitemaps(
        self,
        only: str | None = None,
        listings: Mapping[str | None, Listing] | None = None,
    ) -> Iterator[Document]:
        """sitemap.xml: every language's index pages, section pages and release pages, each
        with the newest `updated` it shows, a release's translations as xhtml:link
        alternates (Google's hreflang in sitemaps); a sitemap index past 50,000 URLs. With
        `only`, just the document at that path (if any). `listings` (every visible release
        of each language, newest first, by scope) when the caller has read them."""
        urls, dating, newest = self._sitemap_urls(listings)
        pages = self.default.pages
        for path, body in sitemap.bodies(urls, only, dating, pages, self.root.base_url):
            yield Document(path, XML, body, GZIP_HOT, newest)

    def sitemap_documents(
        self,
        wanted: Callable[[int, int | None], bool],
        listings: Mapping[str | None, Listing] | None = None,
        slugs: Mapping[str | None, list[str]] | None = None,
    ) -> Iterator[tuple[int, int | None, Document]]:
        """sitemaps()' documents that `wanted(parts, n)` asks for, as (parts, n, document):
        sitemap.xml is n None, sitemaps/<n>.xml is n, of `parts` such files (0: sitemap.xml
        holds every URL). Only the wanted are rendered (issue 18: a build reuses the
        others, doc_keys.py). `slugs`: each language's section slugs, sorted, when the
        caller has them (else read)."""
        urls, dating, newest = self._sitemap_urls(listings, slugs)
        parts = sitemap.sitemap_parts(len(urls))
        pages, base_url = self.default.pages, self.root.base_url
        for n in [*range(1, parts + 1), None]:  # sitemaps()' order: the index last
            if wanted(parts, n):
                path = layout.sitemap() if n is None else layout.sitemap(n)
                for _, body in sitemap.bodies(urls, path, dating, pages, base_url):
                    yield parts, n, Document(path, XML, body, GZIP_HOT, newest)

    def _sitemap_urls(
        self,
        listings: Mapping[str | None, Listing] | None,
        slugs: Mapping[str | None, list[str]] | None = None,
    ) -> tuple[list[sitemap.Url], Callable[[int, int], None], dt.datetime | None]:
        """Every URL of the sitemap in order; what dates the section pages among
        urls[start:stop]; the newest `updated` of all."""
        urls: list[sitemap.Url] = []
        parts: list[_Listed] = []
        moments: list[dt.datetime] = []
        for site in self.all:
            listing = None if listings is None else listings[site.scope]
            entries = (
                [(r.id, r.updated) for r in listing] if listing else site.store.sitemap_entries()
            )
            urls += _index_urls(site, entries)
            sections = (
                [slug for slug, _ in site.store.sections()] if slugs is None else slugs[site.scope]
            )
            parts.append(_Listed(site, sections, len(urls), listing))
            urls += [sitemap.Url(site.site.base_url + layout.section(s), None) for s in sections]
            translated = site.translations.scopes([rid for rid, _ in entries])
            for rid, updated in entries:
                alternates = (
                    tuple(
                        (a.language.tag, a.url)
                        for a in site.translations.links(layout.release(rid), translated.get(rid))
                        if a.translated
                    )
                    if rid in translated
                    else ()
                )
                urls.append(
                    sitemap.Url(site.pages.release_url(rid), sitemap.utc_day(updated), alternates)
                )
            moments.extend(updated for _, updated in entries)
        newest = max(moments, default=None)

        def with_section_days(start: int, stop: int) -> None:
            for listed in parts:
                end = listed.first + len(listed.sections)
                if start >= end or stop <= listed.first or not listed.sections:
                    continue
                days = _section_days(listed, self.feeds.limit)
                for i, slug in enumerate(listed.sections, start=listed.first):
                    urls[i] = urls[i]._replace(lastmod=days.get(slug))

        return urls, with_section_days, newest

    def news_sitemap(self) -> NewsSitemap:
        """news-sitemap.xml as of now (issue 17): every language's visible releases of the
        last two days, newest first, at most 1,000; and when it next loses one."""
        now = self.clock.now()
        rows = self.news.published_since(
            now - news_sitemap.NEWS_WINDOW,
            [s.scope for s in self.all],
            news_sitemap.NEWS_MAX_URLS,
        )
        urls = []
        for row in rows:
            site = self._by_scope[row.scope]
            urls.append(
                news_sitemap.NewsUrl(
                    site.pages.release_url(row.release_id),
                    site.site.title,
                    row.language,
                    row.published.astimezone(site.site.tz),
                    row.title,
                )
            )
        body = news_sitemap.render(urls)
        newest = urls[0].published if urls else None
        expires = min((u.published for u in urls), default=None)
        expires = None if expires is None else expires + news_sitemap.NEWS_WINDOW
        doc = Document(layout.news_sitemap(), XML, body, GZIP_HOT, newest)
        return NewsSitemap(doc, expires)

    def robots(self) -> Document:
        """robots.txt (issue 17): every sitemap, what crawlers should leave alone."""
        body = sitemap.robots_txt(self.root.base_url, [s.prefix for s in self.all])
        return Document(layout.robots(), TEXT, body)


class NewsSitemap(NamedTuple):
    document: Document
    expires: dt.datetime | None  # when its oldest release turns two days old


TEXT = "text/plain; charset=utf-8"


def _index_urls(site: Site, entries: Sequence[tuple[str, dt.datetime]]) -> list[sitemap.Url]:
    per_page, base_url = site.per_page, site.site.base_url
    return [
        sitemap.Url(
            base_url + layout.index_page(n),
            sitemap.day(entries[(n - 1) * per_page : n * per_page]),
        )
        for n in range(1, site.index_page_count(len(entries)) + 1)
    ]


def _section_days(listed: _Listed, limit: int) -> dict[str, str]:
    if listed.listing is not None:
        return sitemap.section_days(listed.listing, limit)
    # A short query a section: the whole listing, summaries and all, held ~70 MiB more at
    # 100,000 releases for a sitemap served live (issue 12).
    store = listed.site.store
    days = {}
    for slug in listed.sections:
        at = store.newest_updated(slug, limit)
        if at is not None:
            days[slug] = sitemap.utc_day(at)
    return days
