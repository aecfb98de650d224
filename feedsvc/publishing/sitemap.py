"""The sitemaps (sitemaps.org protocol): sitemap.xml, or past SITEMAP_MAX_URLS an index
of sitemaps/<n>.xml. `Site.sitemaps` lists the URLs; this module dates and splits them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from feedsvc import layout
from feedsvc.model import ListedRelease

SITEMAP_MAX_URLS = 50_000  # sitemaps.org protocol limit per file


class Writer(Protocol):
    def sitemap(self, urls: Sequence[tuple[str, str | None]]) -> bytes: ...

    def sitemap_index(self, sitemaps: Sequence[tuple[str, str]]) -> bytes: ...


def bodies(
    urls: list[tuple[str, str | None]],
    only: str | None,
    date_sections: Callable[[int, int], None],
    writer: Writer,
    base_url: str,
) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of sitemap.xml, or of each sitemaps/<n>.xml and their index; with
    `only`, just the document at that path (if any). `date_sections(start, stop)` dates the
    section pages among urls[start:stop], which only a document showing them needs."""
    main = layout.sitemap()
    if sitemap_parts(len(urls)) == 0:
        if only in (None, main):
            date_sections(0, len(urls))
            yield main, writer.sitemap(urls)
        return
    index = []
    for n, start in enumerate(range(0, len(urls), SITEMAP_MAX_URLS), start=1):
        path = layout.sitemap(n)
        stop = start + SITEMAP_MAX_URLS
        if only in (None, path, main):
            date_sections(start, stop)
        chunk = urls[start:stop]
        lastmod = max((day for _, day in chunk if day), default="")
        index.append((base_url + path, lastmod))
        if only in (None, path):
            yield path, writer.sitemap(chunk)
    if only in (None, main):
        yield main, writer.sitemap_index(index)


def sitemap_parts(urls: int) -> int:
    """How many sitemaps/<n>.xml a sitemap of `urls` URLs (Site.sitemap_urls) is split
    into: none while sitemap.xml holds them all."""
    return 0 if urls <= SITEMAP_MAX_URLS else math.ceil(urls / SITEMAP_MAX_URLS)


def section_days(listing: Sequence[ListedRelease], limit: int) -> dict[str, str]:
    """slug -> the day of the newest `updated` among the releases its page lists (the
    section's newest `limit`, as the section page reads them)."""
    shown: dict[str, list[tuple[str, dt.datetime]]] = {}
    for r in listing:
        listed = shown.setdefault(r.section_slug, [])
        if len(listed) < limit:
            listed.append((r.id, r.updated))
    return {slug: lastmod for slug, listed in shown.items() if (lastmod := day(listed))}


def day(shown: Sequence[tuple[str, dt.datetime]]) -> str | None:
    """A sitemap's <lastmod>: the UTC day of the newest `updated` among (id, updated)."""
    newest = max((updated for _, updated in shown), default=None)
    return None if newest is None else newest.astimezone(dt.UTC).date().isoformat()
