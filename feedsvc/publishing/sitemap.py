"""The sitemaps (sitemaps.org protocol): sitemap.xml, or past SITEMAP_MAX_URLS an index
of sitemaps/<n>.xml. `Sites.sitemaps` lists the URLs; this module dates, splits and writes
them (a page's translations as xhtml:link alternates, issue 15)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from markupsafe import escape

from feedsvc import layout
from feedsvc.model import ListedRelease

SITEMAP_MAX_URLS = 50_000  # sitemaps.org protocol limit per file


_URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
_XHTML = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'


class Url(NamedTuple):
    loc: str
    lastmod: str | None
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, absolute URL), itself included


class Writer(Protocol):
    def sitemap_index(self, sitemaps: Sequence[tuple[str, str]]) -> bytes: ...


_SPECIAL = re.compile(r"[&<>\"']")  # what markupsafe.escape escapes


def _escaped(text: str) -> str:
    """markupsafe.escape's text: a URL rarely needs any, and 20,000 calls of it cost a
    10,000-release sitemap 30 ms (issue 18)."""
    return str(escape(text)) if _SPECIAL.search(text) else text


def urlset(urls: Sequence[Url]) -> bytes:
    """One sitemap document. The xhtml namespace only when a URL has alternates, so a site
    of one language keeps its bytes."""
    multilingual = any(u.alternates for u in urls)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', _URLSET, _XHTML if multilingual else "", ">"]
    for loc, lastmod, alternates in urls:
        out.append(f"\n<url><loc>{_escaped(loc)}</loc>")
        if lastmod:
            out.append(f"<lastmod>{_escaped(lastmod)}</lastmod>")
        for tag, href in alternates:
            out.append(
                f'<xhtml:link rel="alternate" hreflang="{escape(tag)}" href="{escape(href)}"/>'
            )
        out.append("</url>")
    out.append("\n</urlset>\n")
    return "".join(out).encode("utf-8")


def bodies(
    urls: list[Url],
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
            yield main, urlset(urls)
        return
    index = []
    for n, start in enumerate(range(0, len(urls), SITEMAP_MAX_URLS), start=1):
        path = layout.sitemap(n)
        stop = start + SITEMAP_MAX_URLS
        if only in (None, path, main):
            date_sections(start, stop)
        chunk = urls[start:stop]
        lastmod = max((u.lastmod for u in chunk if u.lastmod), default="")
        index.append((base_url + path, lastmod))
        if only in (None, path):
            yield path, urlset(chunk)
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
    return None if newest is None else utc_day(newest)


def utc_day(moment: dt.datetime) -> str:
    """A <lastmod> of one moment (a release's own: 10,000 a build, issue 18)."""
    return moment.astimezone(dt.UTC).date().isoformat()


def robots_txt(base_url: str, prefixes: Sequence[str]) -> bytes:
    """robots.txt (issue 17; RFC 9309): every sitemap by its absolute URL, and what a
    crawler should leave alone in every language (`prefixes`: '' and 'zh/'...): the API,
    search results (noindex anyway), the forms' POST targets and the pages their emails
    link to (tokens in the query), share clicks, embargo previews. Paths are absolute
    from the host's root (RFC 9309 section 2.2.2), so they carry site.base_path; `*`
    matches any characters (section 2.2.3). A crawler only reads /robots.txt: with a
    base_path other than '/', the host's own robots.txt must carry these lines."""
    base_path = urlsplit(base_url).path or "/"
    once = [layout.api(""), layout.click(""), layout.share_sent("").rstrip("/") + "/"]
    once.append(layout.unsubscribe())
    per_language = [
        layout.alerts(),
        layout.share_form("*"),
        layout.release_preview("*"),
        layout.search(),
    ]
    disallow = once + [prefix + rel for prefix in prefixes for rel in per_language]
    lines = ["User-agent: *"]
    lines += [f"Disallow: {base_path}{rel}" for rel in dict.fromkeys(disallow)]
    lines.append("")
    lines += [f"Sitemap: {base_url}{rel}" for rel in (layout.sitemap(), layout.news_sitemap())]
    return ("\n".join(lines) + "\n").encode("utf-8")
