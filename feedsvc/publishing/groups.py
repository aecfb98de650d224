"""The site's documents, each with the group it renders in (doc_keys.py), so a build can
leave out the groups it reuses from the previous export without rendering them (issue 18
item 2). The documents are `Sites.documents`', in parts the same way; a cold build goes
through here too, and tests/publishing/test_incremental_build.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence

from feedsvc.model import ListedRelease, unscoped
from feedsvc.publishing.doc_keys import (
    archive_group,
    index_group,
    release_group,
    section_group,
    tag_group,
)
from feedsvc.publishing.site import Document, Site
from feedsvc.publishing.sites import Sites

Grouped = tuple[str | None, Document]  # None: a document every build renders


def grouped_documents(
    sites: Sites,
    skip: Collection[str],
    part: int = 0,
    parts: int = 1,
    progress: Callable[[int], None] | None = None,
    releases: Collection[str] | None = None,
) -> Iterator[Grouped]:
    """Every document of one of `parts` parts of the site but those of the groups in
    `skip`. `releases`: the keys of the only release pages to render (read one by one, in
    part 0), when the caller knows them to be few; else every visible release's."""
    listings: dict[str | None, list[ListedRelease]] = {}
    if part == 0:
        yield from ((None, doc) for doc in sites.assets())
        listings = {site.scope: site.store.listing() for site in sites.all}
        yield from ((None, doc) for doc in sites.sitemaps(listings=listings))
        yield None, sites.news_sitemap().document
        yield None, sites.robots()
    for site in sites.all:
        site.translations.preload()
        if part == 0:
            yield from _once(site, skip, listings.get(site.scope))
        for n in range(1 + part, site.archive_pages() + 1, parts):
            group = archive_group(site.scope, n)
            if group not in skip:
                yield from ((group, doc) for doc in site.archive_documents([n]))
        if releases is None:
            yield from _release_pages(site, skip, part, parts, progress)
        elif part == 0:
            yield from _chosen_pages(site, releases, progress)


def _once(
    site: Site, skip: Collection[str], listing: Sequence[ListedRelease] | None
) -> Iterator[Grouped]:
    """What part 0 renders of a language, in Site.documents' order."""
    scope = site.scope
    yield from ((None, doc) for doc in site.main_feeds())
    for slug, name in site.store.sections():
        group = section_group(scope, slug)
        if group not in skip:
            yield from ((group, doc) for doc in site.section_documents(slug, name))
    listing = site.store.listing() if listing is None else listing
    per_page, total = site.per_page, site.index_page_count(len(listing))
    for n in range(1, total + 1):
        group = index_group(scope, n)
        if group not in skip:
            # Site.index_pages' one page, from the listing read once for them all.
            yield group, site._index_page(n, total, listing[(n - 1) * per_page : n * per_page])
    yield None, site.not_found_page()
    tags = site.store.tags()
    for slug, name, _ in tags:
        group = tag_group(scope, slug)
        if group not in skip:
            yield from ((group, doc) for doc in site.tags.feeds(slug, name))
            yield group, site.tags.page(slug, name)
    yield None, site.tags.index(tags)
    yield None, site.directory.page()
    yield None, site.directory.opml()


def _release_pages(
    site: Site,
    skip: Collection[str],
    part: int,
    parts: int,
    progress: Callable[[int], None] | None,
) -> Iterator[Grouped]:
    done = 0
    for stored in site.store.iter_visible(part=part, parts=parts):
        group = release_group(stored.key)
        if group in skip:
            continue
        yield group, site.release_page(stored)
        done += 1
        if progress is not None:
            progress(done)


def _chosen_pages(
    site: Site, keys: Collection[str], progress: Callable[[int], None] | None
) -> Iterator[Grouped]:
    done = 0
    for key in sorted(keys):
        if unscoped(key)[1] != site.scope:
            continue
        stored = site.store.get(key)
        if stored is None or stored.withdrawn_at is not None or stored.seq is None:
            continue  # withdrawn since the keys were read: not in this export
        yield release_group(key), site.release_page(stored)
        done += 1
        if progress is not None:
            progress(done)
