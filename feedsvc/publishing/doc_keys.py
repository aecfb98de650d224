"""A version key for each reusable document of a build, read from the store before anything
is rendered (issue 18 item 2: a second `feedsvc build` renders only what changed).

Documents come in groups that render together (`publishing/groups.py`): a release's page,
an archive page's three feeds, an index page, a section's or a tag's feeds and page. A
group's key digests everything its render reads: each release it shows (every column but
the texts, which `content_hash` stands for, and the search columns), the languages each of
those is visible in (hreflang, Atom translations), what the clock decides (a withdrawn
release's tombstone shows for feeds.tombstone_days), the page's place (number, count) and
the build's `fingerprint` (settings, code, templates, catalogs, libraries). A key errs
towards moving: a missed reuse costs time, a wrong one would publish stale bytes.

Each sitemap file is a group too (sitemap_keys.py), and so are a language's main feeds.
Groups without a key (the news sitemap, robots.txt, the assets, tags/, feeds/, 404.html)
are rendered by every build: they are few, and most show everything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import Engine

from feedsvc.publishing.fingerprint import digest, hashed
from feedsvc.publishing.sitemap_keys import sitemap_keys
from feedsvc.store.build_reads import PublishedRow, published_rows

T = TypeVar("T")
K = TypeVar("K")


def release_group(key: str) -> str:
    return f"release {key}"


def release_of(group: str) -> str | None:
    """The release key of a release page's group; None for another group."""
    kind, _, key = group.partition(" ")
    return key if kind == "release" else None


def archive_group(scope: str | None, n: int) -> str:
    return f"archive {scope or ''} {n}"


def index_group(scope: str | None, n: int) -> str:
    return f"index {scope or ''} {n}"


def main_group(scope: str | None) -> str:
    return f"main {scope or ''}"


def section_group(scope: str | None, slug: str) -> str:
    return f"section {scope or ''} {slug}"


def tag_group(scope: str | None, slug: str) -> str:
    return f"tag {scope or ''} {slug}"


def document_keys(
    engine: Engine,
    fingerprint: str,
    *,
    archive_page_size: int,
    per_page: int,
    tombstone_cutoff: dt.datetime,
    feed_limit: int | None = None,
    read: tuple[list[PublishedRow], list[tuple[str, str, str]]] | None = None,
) -> dict[str, str]:
    """group -> key, for every keyed group a build of the store as it is now renders.
    `feed_limit` (feeds.limit): a section's key digests only the releases its feeds and
    page show, and the main feeds are keyed likewise; None: a section's key digests every
    release it ever had, and the main feeds have none (rendered every build). `read`:
    published_rows(engine), when the caller has read it."""
    rows, tagged = published_rows(engine) if read is None else read
    languages: dict[str, set[str]] = defaultdict(set)  # release id -> scopes visible in
    for row in rows:
        if row.withdrawn_at is None:
            languages[row.release_id].add(row.scope)

    said = _release_digests(rows, languages, fingerprint, tombstone_cutoff)

    def shown(row: PublishedRow) -> str:
        return said[row.key]

    def key(*parts: object) -> str:
        return digest(fingerprint, *parts)

    keys: dict[str, str] = {}
    by_scope: dict[str, list[PublishedRow]] = defaultdict(list)
    slug_scopes: dict[str, set[str]] = defaultdict(set)  # a section's alternates
    for row in rows:  # newest first within a scope: the index's order, as the store gives it
        by_scope[row.scope].append(row)
        slug_scopes[row.section_slug].add(row.scope)
    for scope, mine in by_scope.items():
        visible = [row for row in mine if row.withdrawn_at is None]
        for row in visible:
            keys[release_group(row.key)] = shown(row)
        last = math.ceil(max(row.seq for row in mine) / archive_page_size)
        for n, members in _grouped(mine, lambda r: (r.seq - 1) // archive_page_size + 1):
            members.sort(key=lambda r: r.seq)
            keys[archive_group(scope, n)] = key("archive", n, last, *map(shown, members))
        if feed_limit is not None:
            # The main feeds show the newest feeds.limit, the tombstones and the archive
            # page before them (max seq names it): a change further down leaves them.
            showing = _section_shows(mine, feed_limit, tombstone_cutoff)
            top = max(row.seq for row in mine)
            keys[main_group(scope)] = key("main", top, *map(shown, showing))
        total = max(1, math.ceil(len(visible) / per_page))
        for n in range(1, total + 1):
            page = visible[(n - 1) * per_page : n * per_page]
            keys[index_group(scope, n)] = key("index", n, total, *map(shown, page))
        for slug, members in _grouped(mine, lambda r: r.section_slug):
            scopes = sorted(slug_scopes[slug])
            showing = _section_shows(members, feed_limit, tombstone_cutoff)
            # The name: members' state holds it when they all are in the key.
            names = feed_limit and sorted({(row.section, str(row.published)) for row in members})
            keys[section_group(scope, slug)] = key(
                "section", slug, scopes, names, *map(shown, showing)
            )
    by_key = {row.key: row for row in rows}
    for (scope, slug), members_keys in _grouped(tagged, lambda t: (t[2], t[1])):
        members = [by_key[k] for k, _, _ in members_keys if k in by_key]
        keys[tag_group(scope, slug)] = key("tag", slug, *map(shown, members))
    keys.update(sitemap_keys(rows, languages, fingerprint, per_page=per_page))
    return keys


def _release_digests(
    rows: list[PublishedRow],
    languages: dict[str, set[str]],
    fingerprint: str,
    tombstone_cutoff: dt.datetime,
) -> dict[str, str]:
    """release key -> what it adds to the key of a document showing it: a digest, so that
    a page of 100 releases joins 100 short strings, not 100 rows' worth of columns (issue
    18: this runs every build). The fingerprint is in it: it is a release page's own key."""
    spoken = {rid: str(sorted(scopes)) for rid, scopes in languages.items()}
    return {
        row.key: hashed(
            f"{fingerprint}\x1frelease\x1f{row.state}\x1f{spoken.get(row.release_id, '[]')}\x1f"
            f"{row.withdrawn_at is not None and row.withdrawn_at > tombstone_cutoff}"
        )
        for row in rows
    }


def _section_shows(
    members: list[PublishedRow], limit: int | None, cutoff: dt.datetime
) -> list[PublishedRow]:
    """What a section's feeds and page show (Site.section_documents): its newest `limit`
    visible releases and the tombstones of those withdrawn after `cutoff`. A release
    further down changed the key of its section, of 2,000 releases at 10,000, and the
    section was rendered again for nothing (issue 18). The name the section goes by (the
    spelling published last, withdrawn or not) is the caller's part of the key."""
    if limit is None:
        return members
    visible = [row for row in members if row.withdrawn_at is None][:limit]
    tombstones = [row for row in members if row.withdrawn_at and row.withdrawn_at > cutoff]
    return visible + tombstones


def _grouped(items: Iterable[T], by: Callable[[T], K]) -> list[tuple[K, list[T]]]:
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(by(item), []).append(item)
    return list(groups.items())
