"""schema.org `NewsArticle` JSON-LD for a release page (issue 17 item 4).

Google's "Article (Article, NewsArticle, BlogPosting) structured data" lists no required
property and recommends `author` (each with `name` and `url`), `dateModified`,
`datePublished`, `headline` and `image`; schema.org's NewsArticle adds what a news
aggregator reads: `publisher` (with its `logo`), `inLanguage`, `mainEntityOfPage`,
`description`, `articleSection`, `keywords`, `isAccessibleForFree`. Google dropped its
110-character limit on `headline` ("consider using a concise title, as long titles may
be truncated"), so the title is given whole, as the page's <h1> says it.

Pure: a release and the site's settings in, a dict out (`news_article`), and the one safe
way to put it in a page (`script_json`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from markupsafe import Markup

from feedsvc.config import SiteSettings
from feedsvc.model import Release


@dataclass(frozen=True)
class Image:
    url: str  # absolute
    width: int
    height: int


def news_article(
    release: Release,
    *,
    url: str,
    published: dt.datetime,
    modified: dt.datetime,
    site: SiteSettings,
    root: SiteSettings,
    section: str,
    images: Sequence[Image] = (),
) -> dict[str, Any]:
    """The release as a NewsArticle. `site` is its language's site (title, base_url),
    `root` the site as configured (its logo's base); `section` its name as the page shows
    it; `images` the lead picture's renditions, largest first."""
    office = _organization(site, root)
    authors: list[dict[str, Any]] = []
    if release.author:
        # A named author has no page of their own here; the office is the one with a URL.
        authors.append({"@type": "Person", "name": release.author})
    authors.append(
        {"@type": "Organization", "name": site.author or site.title, "url": site.base_url}
    )
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": release.title,
        "description": release.summary,
        "datePublished": published.isoformat(),
        "dateModified": max(modified, published).isoformat(),
        "author": authors,
        "publisher": office,
        "inLanguage": release.language,
        "articleSection": section,
        "isAccessibleForFree": True,
    }
    if release.tags:
        article["keywords"] = list(release.tags)
    if images:
        article["image"] = [
            {"@type": "ImageObject", "url": i.url, "width": i.width, "height": i.height}
            for i in images
        ]
    return article


def _organization(site: SiteSettings, root: SiteSettings) -> dict[str, Any]:
    office: dict[str, Any] = {"@type": "Organization", "name": site.title, "url": site.base_url}
    if root.logo:
        # site.logo: an absolute URL, or a path below the configured base_url (issue 17).
        logo = urljoin(root.base_url, root.logo.lstrip("/"))
        office["logo"] = {"@type": "ImageObject", "url": logo}
    return office


# Inside <script> the HTML parser ends the element at "</script" and treats "<!--" as the
# start of an escaped text state; JSON allows any character as \uXXXX, so none of these
# characters is written as itself (as Django's json_script does). U+2028/U+2029 too, for
# the readers that eval JSON-LD as JavaScript.
_SCRIPT_SAFE = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def script_json(data: dict[str, Any]) -> Markup:
    """`data` as JSON that no string in it can end the <script> element it sits in."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # str.replace, not str.translate with a dict (a lookup a character: 0.26 ms a page).
    for char, escaped in _SCRIPT_SAFE:
        if char in text:
            text = text.replace(char, escaped)
    return Markup(text)
