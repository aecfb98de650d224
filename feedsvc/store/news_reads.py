"""What the Google News sitemap reads (issue 17): the visible releases published since a
moment, newest first, in every language. Read-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Engine, select

from feedsvc.store.release_reads import VISIBLE
from feedsvc.store.schema import releases


class NewsRow(NamedTuple):
    release_id: str
    scope: str | None  # the language scope (None: the site's own), as model.unscoped
    title: str
    language: str
    published: dt.datetime


class NewsReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def published_since(
        self, since: dt.datetime, scopes: Iterable[str | None], limit: int
    ) -> list[NewsRow]:
        """At most `limit` visible releases with `published` >= since, newest first. One
        query per language, each an index range scan of releases_published (scope,
        published, id), so the cost follows the recent releases, not the archive."""
        cols = releases.c
        rows: list[NewsRow] = []
        with self.engine.connect() as conn:
            for scope in scopes:
                query = (
                    select(cols.release_id, cols.title, cols.language, cols.published)
                    .where(VISIBLE, cols.scope == (scope or ""), cols.published >= since)
                    .order_by(cols.published.desc(), cols.id.desc())
                    .limit(limit)
                )
                rows += [
                    NewsRow(rid, scope, t, lang, at) for rid, t, lang, at in conn.execute(query)
                ]
        rows.sort(key=lambda r: (r.published, r.release_id), reverse=True)
        return rows[:limit]
