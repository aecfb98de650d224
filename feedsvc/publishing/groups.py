"""The site's documents, each with the group it renders in (doc_keys.py), so a build can
leave out the groups it reuses from the previous export without rendering them (issue 18
item 2). The documents are `Sites.documents`', in parts the same way; a cold build goes
through here too, and tests/publishing/test_incremental_build.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from feedsvc.model import unscoped
from feedsvc.publishing.doc_keys import (
    archive_group,
    index_group,
    main_group,
    release_group,
    section_group,
    tag_group,
)
from feedsvc.publishing.site import Document, Site
from feedsvc.publishing.sitemap_keys import sitemap_group
from feedsvc.publishing.sites import Sites
from feedsvc.store.build_reads import PublishedRow, sitemap_listings, sitemap_reads

Grouped = tuple[str | None, Document]  # None: a document every build renders
FEW_INDEX_PAGES = 8  # more to render, and the language's whole listing is read once


def grouped_documents(
    sites: Sites,
    skip: Collection[str],
    part: int = 0,
    parts: int = 1,
    progress: Callable[[int], None] | None = None,
    releases: Collection[str] | None = None,
    rows: list[PublishedRow] | None = None,
) -> Iterator[Grouped]:
    """Every document of one of `parts` parts of the site but those of the groups in
    `skip`. `releases`: the keys of the only release pages to render (read one by one, in
    part 0), when the caller knows them to be few; else every visible release's. `rows`:
    published_rows' as the keys were made from them, when the caller has them (the
    sitemap is made from them, not read again). Of several parts, part 0 renders what is
    rendered once (the assets, sitemaps, feeds, index, section and tag pages) and the others
    the archive and release pages, shared out: so the parts that make up most of the work
    are alike, and a pool evens them out (issue 18)."""
    # The archive and release pages are shared out among parts 1..parts-1 (all of them
    # in a single part); the few chosen release pages are part 0's.
    slot, slots = (part - 1, parts - 1) if parts > 1 else (0, 1)
    if part == 0:
        yield from ((None, doc) for doc in sites.assets())
        if not _sitemap_reused(skip):
            yield from _sitemaps(sites, skip, rows)
        yield None, sites.news_sitemap().document
        yield None, sites.robots()
    for site in sites.all:
        site.translations.preload()
        if part == 0:
            yield from _once(site, skip, rows)
        if slot >= 0:
            yield from _archive_pages(site, skip, slot, slots, releases is None, progress)
        if releases is not None and part == 0:
            yield from _chosen_pages(site, releases, progress)


def _sitemap_reused(skip: Collection[str]) -> bool:
    """Whether every sitemap file is among the reused groups: sitemap.xml's group names how
    many files there are (sitemap_keys.py), each of which must be reused too."""
    for group in skip:
        kind, _, parts = group.partition(" ")
        if kind == "sitemap" and parts.isdigit():
            return all(sitemap_group(int(parts), n) in skip for n in range(1, int(parts) + 1))
    return False


def _sitemaps(
    sites: Sites, skip: Collection[str], rows: list[PublishedRow] | None
) -> Iterator[Grouped]:
    """The sitemap files not reused, each its own group, from only what they show of each
    language's listing (issue 18): read, or from the keys' rows."""
    slugs = None
    if rows is None:
        read = sitemap_listings(sites.store.engine)
    else:
        read, found = sitemap_reads(sites.store.engine, rows)
        slugs = {site.scope: found.get(site.scope or "", []) for site in sites.all}
    listings = {site.scope: read.get(site.scope or "", []) for site in sites.all}
    documents = sites.sitemap_documents(
        lambda parts, n: sitemap_group(parts, n) not in skip, listings, slugs
    )
    for parts, n, doc in documents:
        yield sitemap_group(parts, n), doc


def _once(
    site: Site, skip: Collection[str], rows: list[PublishedRow] | None = None
) -> Iterator[Grouped]:
    """What part 0 renders of a language, in Site.documents' order."""
    scope = site.scope
    if main_group(scope) not in skip:
        yield from ((main_group(scope), doc) for doc in site.main_feeds())
    sections = site.store.sections()
    for slug, name in sections:
        group = section_group(scope, slug)
        if group not in skip:
            yield from ((group, doc) for doc in site.section_documents(slug, name))
    yield from _index_pages(site, skip, rows)
    yield None, site.not_found_page()
    tags = site.store.tags()
    for slug, name, _ in tags:
        group = tag_group(scope, slug)
        if group not in skip:
            yield from ((group, doc) for doc in site.tags.feeds(slug, name))
            yield group, site.tags.page(slug, name)
    yield None, site.tags.index(tags)
    # The sections and tags as read above: each read scans every release's row (issue 18).
    listed = site.directory.groups(sections, tags)
    yield None, site.directory.page(listed)
    yield None, site.directory.opml(listed)


def _index_pages(
    site: Site, skip: Collection[str], rows: list[PublishedRow] | None = None
) -> Iterator[Grouped]:
    """The index pages not reused: from the language's whole listing when many are to
    render, else each page's releases read alone (issue 18: reading the whole listing cost
    a second build a fifth of a second for the one page a change moved), by the keys the
    build's `rows` put on it when it has them (published_rows gives the index's order)."""
    per_page, scope = site.per_page, site.scope
    order = None
    if rows is not None:
        order = [r.key for r in rows if r.scope == (scope or "") and r.withdrawn_at is None]
    visible = site.store.visible_count() if order is None else len(order)
    total = site.index_page_count(visible)
    pages = [n for n in range(1, total + 1) if index_group(scope, n) not in skip]
    listing = site.store.listing() if len(pages) > FEW_INDEX_PAGES else None
    for n in pages:
        # Site.index_pages' one page: from the listing read once, or read alone.
        start = (n - 1) * per_page
        if listing is not None:
            shown = listing[start : start + per_page]
        elif order is not None:
            shown = site.store.listed(order[start : start + per_page])
        else:
            shown = site.store.listing(start, per_page)
        yield index_group(scope, n), site._index_page(n, total, shown)


def _archive_pages(
    site: Site,
    skip: Collection[str],
    slot: int,
    slots: int,
    with_releases: bool,
    progress: Callable[[int], None] | None,
) -> Iterator[Grouped]:
    """Every `slots`-th archive page from `slot`, and (`with_releases`) the release pages
    of the releases it holds, from one read of them (issue 18: every visible release is on
    one archive page; each was read twice, for its page and for its archive page)."""
    last, done = site.archive_pages(), 0
    for n in range(1 + slot, last + 1, slots):
        group = archive_group(site.scope, n)
        if group in skip and not with_releases:
            continue
        held = site.archive_releases(n)
        if group not in skip:
            yield from ((group, doc) for doc in site.archive_page(n, last, held))
        if not with_releases:
            continue
        for stored in held:
            page = release_group(stored.key)
            if page in skip:
                continue
            yield page, site.release_page(stored)
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
