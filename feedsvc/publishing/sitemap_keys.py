"""A version key for each sitemap file (issue 18 item 2): rendering sitemap.xml for 10,000
releases cost every build about a third of a second, though a release's new text changes
none of its bytes. A sitemap file shows, for each language in turn, its index pages (dated
by the releases each lists), its section pages (named and dated by their releases) and
its visible releases (id, `updated`, the languages it is visible in: the hreflang
alternates); the rest (base URL, languages, per_page, the code) is the fingerprint's.

Groups: `sitemap P` is sitemap.xml (P = 0: the sitemap itself; else the index of P files),
`sitemap P n` is sitemaps/<n>.xml. Past 50,000 URLs, the URLs of a site of one language are
split as `Sites.sitemaps` splits them, so a release's change moves its own file's key;
with several languages their order is the configuration's, which the store does not know:
then every file's key digests every URL (a key errs towards moving).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from feedsvc.publishing import sitemap
from feedsvc.publishing.fingerprint import digest
from feedsvc.store.build_reads import PublishedRow


def sitemap_group(parts: int, n: int | None = None) -> str:
    """sitemap.xml's group (n None), or sitemaps/<n>.xml's, in a sitemap of `parts` files."""
    return f"sitemap {parts}" if n is None else f"sitemap {parts} {n}"


def sitemap_keys(
    rows: Sequence[PublishedRow],
    languages: Mapping[str, set[str]],
    fingerprint: str,
    *,
    per_page: int,
) -> dict[str, str]:
    """group -> key of every sitemap file; `rows` as published_rows gives them (each
    language's newest first), `languages`: release id -> the scopes it is visible in."""
    by_scope: dict[str, list[PublishedRow]] = defaultdict(list)
    for row in rows:
        by_scope[row.scope].append(row)
    if not by_scope:
        return {}  # no language has a release: the sitemap is rendered, unkeyed
    urls: list[str] = []  # what each URL's entry depends on, in the sitemap's order
    for scope, mine in by_scope.items():
        urls += _scope_urls(scope, mine, languages, per_page)
    parts = sitemap.sitemap_parts(len(urls))
    if parts == 0:
        return {sitemap_group(0): digest(fingerprint, "sitemap", *urls)}
    size = sitemap.SITEMAP_MAX_URLS
    whole = digest(*urls) if len(by_scope) > 1 else None
    keys = {
        sitemap_group(parts, n): digest(
            fingerprint, "sitemap", parts, n, whole or digest(*urls[start : start + size])
        )
        for n, start in enumerate(range(0, len(urls), size), start=1)
    }
    keys[sitemap_group(parts)] = digest(fingerprint, "sitemap index", *keys.values())
    return keys


def _scope_urls(
    scope: str, mine: Sequence[PublishedRow], languages: Mapping[str, set[str]], per_page: int
) -> list[str]:
    """One language's part: its index pages and section pages (one digest of all they
    show: the visible releases' sections and `updated` in order, and every section name
    ever published, with when), then a release's entry for each visible release."""
    visible = [row for row in mine if row.withdrawn_at is None]
    # Which name a section goes by: the spelling most recently published (every one, with
    # when, for the store decides by its own comparison of dates).
    named = sorted({(row.section_slug, row.section, str(row.published)) for row in mine})
    head = digest(
        scope,
        per_page,
        named,
        *(f"{row.section_slug}\x1e{row.updated}" for row in visible),
    )
    pages = max(1, math.ceil(len(visible) / per_page))
    sections = len({slug for slug, _, _ in named})
    return [head] * (pages + sections) + [
        f"{scope}\x1e{row.release_id}\x1e{row.updated}\x1e{sorted(languages[row.release_id])}"
        for row in visible
    ]
