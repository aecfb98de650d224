"""Search (issue 17 item 1): the SQL that finds visible releases by their words. The text
both sides compare is made by feedsvc/search/text.py; the index is kept by the triggers of
store/schema.py's SEARCH_DDL. A user's words never become query syntax: each term is a
quoted FTS5 string (quotes doubled) or a bound value handed to phraseto_tsquery.

Ranking: the releases whose title holds every term, then those whose text does, each
newest first. Not bm25/ts_rank: scoring every match of two common words over 100,000
releases cost 30 ms on SQLite and 170 ms on PostgreSQL (bench/search.py), beyond the p99
target of 20 ms, while these two tiers come out of the indexes in order (FTS5's rowid is
the published minute) or from a top-N sort of index hits, reading no text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, literal_column, not_, select
from sqlalchemy import text as sql

from feedsvc.model import ListedRelease
from feedsvc.search.text import index_text
from feedsvc.store.release_reads import VISIBLE
from feedsvc.store.schema import SQLITE_BULK_INDEX, releases

__all__ = ["COUNT_CAP", "Found", "Search", "SearchQuery"]

# Counting every match of a common word is what costs; past this many the page says "more
# than" (and offers the pages up to it).
COUNT_CAP = 1000
_LISTED = (
    releases.c.release_id,
    releases.c.title,
    releases.c.section,
    releases.c.section_slug,
    releases.c.summary,
    releases.c.language,
    releases.c.published,
    releases.c.updated,
)


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...]  # search.text.query_terms: phrases of index tokens
    scope: str = ""  # the language ('' the site's own)
    section_slug: str | None = None
    published: tuple[dt.datetime, dt.datetime] | None = None  # [from, to): a year
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class Found:
    releases: list[ListedRelease]
    total: int  # capped at COUNT_CAP


class Search:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, query: SearchQuery) -> Found:
        """The visible releases holding every term: title matches first, newest first."""
        if not query.terms:
            return Found([], 0)
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                return _postgresql(conn, query)
            return _sqlite(conn, query)


# -- SQLite: FTS5 ---------------------------------------------------------------------------

_FTS_PAGE = (
    "SELECT rowid, 0 FROM releases_fts WHERE releases_fts MATCH :title {span} "
    "UNION ALL SELECT rowid, 1 FROM releases_fts WHERE releases_fts MATCH :rest {span} "
    "ORDER BY 2, 1 DESC LIMIT :limit OFFSET :offset"
)
_FTS_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM releases_fts WHERE releases_fts MATCH :every {span} "
    "LIMIT :cap)"
)
_ROW = 0xFFFFFFFF  # the low 32 bits of an FTS rowid: the release row's rowid


def _sqlite(conn: Connection, query: SearchQuery) -> Found:
    terms = " ".join('"' + term.replace('"', '""') + '"' for term in query.terms)
    facets = '{facets}: "s' + query.scope.encode().hex() + '"'
    if query.section_slug is not None:
        facets += ' AND {facets}: "c' + query.section_slug.encode().hex() + '"'
    params: dict[str, Any] = {
        "title": f"{facets} AND {{title}}: ({terms})",
        "rest": f"{facets} AND ({{title body}}: ({terms}) NOT {{title}}: ({terms}))",
        "every": f"{facets} AND {{title body}}: ({terms})",
        "limit": query.limit,
        "offset": query.offset,
        "cap": COUNT_CAP,
    }
    span = ""
    if query.published is not None:
        # The rowid's high bits are the published minute (SEARCH_DDL): a year is a range.
        start, end = (int(moment.timestamp()) // 60 << 32 for moment in query.published)
        span = "AND rowid >= :start AND rowid < :end"
        params |= {"start": start, "end": end}
    keys = [key for key, _ in conn.execute(sql(_FTS_PAGE.format(span=span)), params)]
    total = conn.execute(sql(_FTS_COUNT.format(span=span)), params).scalar_one()
    rowid = literal_column("releases.rowid")
    ids = [key & _ROW for key in keys]
    found = {
        row[0]: ListedRelease(*row[1:])
        for row in conn.execute(select(rowid, *_LISTED).where(rowid.in_(ids), VISIBLE))
    }
    return Found([found[i] for i in ids if i in found], total)


# -- PostgreSQL: tsvector + GIN --------------------------------------------------------------


def _postgresql(conn: Connection, query: SearchQuery) -> Found:
    """Each tier its own query, newest first, its plan chosen here from its capped count
    (PostgreSQL's LIMIT costing does not see what reading each row's tsvector costs: it
    walked 3,800 rows for a word in 600 releases, and scanned the table to count a common
    one): fewer than COUNT_CAP matches are gathered from the GIN index and sorted; more are
    found walking releases_published backwards, where every few rows is one (a deep page
    of a common match walks further: page 50 of two common words, about 40 ms)."""
    cols = releases.c
    asked: Any = None
    for term in query.terms:
        part = func.phraseto_tsquery(literal_column("'simple'"), term)
        asked = part if asked is None else asked.op("&&")(part)
    where = [VISIBLE, cols.scope == query.scope]
    if query.section_slug is not None:
        where.append(cols.section_slug == query.section_slug)
    if query.published is not None:
        where += [cols.published >= query.published[0], cols.published < query.published[1]]
    in_title = cols.search_title.op("@@", is_comparison=True)(asked)
    in_text = cols.search_vector.op("@@", is_comparison=True)(asked)
    with conn.begin():  # the planner settings below are LOCAL to it
        titled = _capped_count(conn, [in_title, *where])
        total = _capped_count(conn, [in_text, *where])
        found: list[ListedRelease] = []
        if query.offset < titled:
            tier = [in_title, *where]
            walk = titled >= COUNT_CAP
            found = _newest(conn, tier, query.offset, query.limit, walk)
        if len(found) < query.limit:
            offset = max(0, query.offset - titled)
            rest = [in_text, not_(in_title), *where]
            walk = total >= COUNT_CAP
            found += _newest(conn, rest, offset, query.limit - len(found), walk)
    return Found(found, total)


def _plan(conn: Connection, walk: bool) -> None:
    """Walk an ordered index (a common match) or gather a bitmap (a rarer one); never a
    sequential scan."""
    conn.execute(
        sql(
            "SELECT set_config('enable_seqscan', 'off', true), "
            "set_config('enable_indexscan', :walk, true), "
            "set_config('enable_bitmapscan', :gather, true)"
        ),
        {"walk": "on" if walk else "off", "gather": "off" if walk else "on"},
    )


def _newest(
    conn: Connection, where: list[Any], offset: int, limit: int, walk: bool
) -> list[ListedRelease]:
    cols = releases.c
    query = (
        select(*_LISTED)
        .where(*where)
        .order_by(cols.published.desc(), cols.id.desc())
        .offset(offset)
        .limit(limit)
    )
    _plan(conn, walk)
    return [ListedRelease(*row) for row in conn.execute(query)]


def _capped_count(conn: Connection, where: list[Any]) -> int:
    _plan(conn, walk=False)
    capped = select(literal_column("1")).where(*where).limit(COUNT_CAP)
    return conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one()


# -- writing the index (store/releases.py writes releases through these) -----------------

_BULK_INDEX = 200  # releases published at once from which SQLite indexes them in bulk
_SEARCH_BATCH = 200  # rows a statement: what the driver holds at once, text and all


def searchable(
    rows: list[dict[str, Any]], made: Mapping[str, str] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """`rows` in batches, each with what search finds it by (issue 17 item 1), written (and
    indexed) with the row; `made` has the search texts already made, by source file (a
    first import makes them in its reading processes, issue 18). Made a small batch at a
    time: made for every row at once, a first import of 20,000 releases peaked 26 MiB
    higher (223 MiB on PostgreSQL, over tests/web/test_import_memory's bound), and in
    batches of 1,000 still 14 MiB (the driver holds a statement's text); in batches of
    200, as before search (197 / 191 MiB)."""
    made = made or {}
    for start in range(0, len(rows), _SEARCH_BATCH):
        yield [
            {
                **values,
                "search_text": made.get(values["source"])
                or index_text(values["title"], values["summary"], values["body_html"]),
            }
            for values in rows[start : start + _SEARCH_BATCH]
        ]


def pause_search(conn: Connection, published: int) -> bool:
    """Issue 18: whether this publish indexes its releases in bulk (SQLite, many at once;
    schema.SQLITE_BULK_INDEX), the update trigger dropped until `index_published`."""
    bulk = published >= _BULK_INDEX and conn.dialect.name == "sqlite"
    if bulk:
        conn.exec_driver_sql(SQLITE_BULK_INDEX[0])
    return bulk


def index_published(conn: Connection, after: Mapping[str, int], scopes: set[str]) -> None:
    """Index the releases given seqs after `after` (each scope's last before), in rowid
    order, and make the update trigger again: in the publishing transaction."""
    for scope in sorted(scopes):
        params = {"scope": scope, "after": after.get(scope, 0)}
        conn.execute(sql(SQLITE_BULK_INDEX[1]), params)
    conn.exec_driver_sql(SQLITE_BULK_INDEX[2])
