"""What a change re-renders at once (issue 18 item 5): each touched language's main feeds, the
feeds of its touched sections and its home page, with their browser pages, as `Ready`s.

A `HotJob` says it in plain data (no store rows, no models), so the same `render_hot` runs in
the serving process or in a renderer process of its own (feedsvc/hot_worker.py), which
sends the `Ready`s back; the cache swaps them in together (DocumentCache.apply).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from feedsvc.publishing.ready import Ready
from feedsvc.publishing.site import Document, Site
from feedsvc.publishing.sites import Sites


@dataclass(frozen=True)
class HotJob:
    now: dt.datetime  # the service clock's moment of the change (tombstone windows)
    keys: tuple[str, ...]  # release keys it touched: their pictures are made first
    # Per touched language scope (None: the site's own): its touched sections, (slug, name).
    scopes: tuple[tuple[str | None, tuple[tuple[str, str], ...]], ...]


HotRender = Callable[[HotJob], list[Ready]]


def render_hot(sites: Sites, job: HotJob, max_age: int) -> list[Ready]:
    """The hot documents of `job`; `sites` reads the store as it is now."""
    sites.prepare_media(job.keys)  # the feeds about to be rendered give pictures' lengths
    out: list[Ready] = []
    for scope, sections in job.scopes:
        site = sites.of(scope)
        if site is not None:
            out += [ready_of(sites, doc, max_age) for doc in hot_documents(site, sections)]
    return out


def warm_up(sites: Sites, max_age: int) -> int:
    """Render, and drop, what every change renders (each language's main feeds and home
    page, with their browser pages), as a renderer does once it has opened: its templates
    are compiled, its locale data loaded and the main feeds' entry elements kept
    (entry_elements.py) before the first change, which then costs what the next ones do
    (issue 18): a change that touched every language and no section. How many documents
    it rendered."""
    every = tuple((site.scope, ()) for site in sites.all)
    return len(render_hot(sites, HotJob(dt.datetime.now(dt.UTC), (), every), max_age))


def hot_documents(site: Site, sections: Iterable[tuple[str, str]]) -> list[Document]:
    docs = list(site.main_feeds())
    for slug, name in sorted(sections):
        docs.extend(site.section_feeds(slug, name))
    home = site.index_page(1)
    if home is not None:
        docs.append(home)
    return docs


def ready_of(sites: Sites, doc: Document, max_age: int) -> Ready:
    """A document ready to serve; a feed with its browser page, rendered from the same
    model at the same moment, so the page changes exactly when the feed does."""
    page = sites.feed_page(doc)
    browser = None if page is None else Ready.of(page, max_age, for_browser=True)
    return Ready.of(doc, max_age, browser)
