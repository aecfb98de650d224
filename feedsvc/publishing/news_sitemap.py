"""The Google News sitemap, news-sitemap.xml (issue 17 item 4), written from what
`Sites.news_sitemap` reads.

Google's "News sitemaps": only articles of the last two days, at most 1,000 `<news:news>`
tags a sitemap; each `<url>` has its `<loc>` and one `<news:news>` with
`<news:publication>` (`<news:name>` as the publication is known, `<news:language>`: an
ISO 639 code of two or three letters, except `zh-cn` for Simplified and `zh-tw` for
Traditional Chinese), `<news:publication_date>` (W3C datetime) and `<news:title>`. An
empty urlset is valid ("It won't cause any problems with Google Search if the file is
empty"). Pure: no store, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import escape

NEWS_WINDOW = dt.timedelta(days=2)
NEWS_MAX_URLS = 1000
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_URLSET = (
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="' + NEWS_NS + '">'
)
# Scripts and regions written in Traditional Chinese; the rest of Chinese is Simplified.
_TRADITIONAL = frozenset({"hant", "tw", "hk", "mo"})


class NewsUrl(NamedTuple):
    loc: str  # the release page's absolute URL
    name: str  # the publication: the site's title in the release's language
    language: str  # a BCP 47 tag; news_language() makes it Google's code
    published: dt.datetime  # aware
    title: str


def news_language(tag: str) -> str:
    """Google's code for a language tag: 'zh-cn' / 'zh-tw' for Chinese, else the primary
    subtag ('en-GB' -> 'en', 'pt-BR' -> 'pt')."""
    primary, *rest = tag.lower().split("-")
    if primary != "zh":
        return primary
    return "zh-tw" if _TRADITIONAL.intersection(rest) else "zh-cn"


def render(urls: Sequence[NewsUrl]) -> bytes:
    """The sitemap of `urls` (already the newest first, at most NEWS_MAX_URLS)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', _URLSET]
    for u in urls[:NEWS_MAX_URLS]:
        out.append(
            f"\n<url><loc>{escape(u.loc)}</loc><news:news><news:publication>"
            f"<news:name>{escape(u.name)}</news:name>"
            f"<news:language>{escape(news_language(u.language))}</news:language>"
            f"</news:publication><news:publication_date>"
            f"{u.published.isoformat(timespec='seconds')}</news:publication_date>"
            f"<news:title>{escape(u.title)}</news:title></news:news></url>"
        )
    out.append("\n</urlset>\n")
    return "".join(out).encode("utf-8")
