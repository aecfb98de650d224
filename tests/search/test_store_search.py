"""Search in the store (issue 17 item 1), on the suite's database (SQLite, or PostgreSQL with
FEEDSVC_TEST_DATABASE=postgresql): ranking, filters, pages, and that the index follows the
transactions that publish, edit and withdraw."""

from __future__ import annotations

import datetime as dt
import os

from feedsvc.search.text import query_terms
from feedsvc.store.search import SearchQuery
from tests.conftest import Newsroom


def ids(room: Newsroom, q: str, **kw: object) -> list[str]:
    found = room.store.search.find(SearchQuery(tuple(query_terms(q)), **kw))  # type: ignore[arg-type]
    return [r.id for r in found.releases]


def md(title: str, body: str, **meta: str) -> str:
    meta = {"title": title, "section": "News", **meta}
    head = "".join(f'{k} = "{v}"\n' for k, v in meta.items())
    return f"+++\n{head}+++\n\n{body}\n"


def test_a_title_match_ranks_above_a_body_only_one(newsroom: Newsroom) -> None:
    newsroom.write(
        "body.md", md("Harbour news", "The lighthouse keeper retired.", date="2026-11-20")
    )
    newsroom.write("title.md", md("Lighthouse keeper retires", "News.", date="2026-11-01"))
    newsroom.write("none.md", md("Other", "Nothing here.", date="2026-11-02"))
    newsroom.ingest()
    assert ids(newsroom, "lighthouse keeper") == ["title", "body"]
    # Pages cross from the title tier to the rest.
    assert ids(newsroom, "lighthouse keeper", limit=1) == ["title"]
    assert ids(newsroom, "lighthouse keeper", offset=1, limit=1) == ["body"]
    assert ids(newsroom, "lighthouse keeper", offset=2, limit=1) == []
    assert ids(newsroom, "keeper nothing") == []


def test_filters_and_pages(newsroom: Newsroom) -> None:
    for n in range(5):
        newsroom.write(
            f"a{n}.md", md(f"Budget {n}", "Budget text.", date=f"202{n}-06-01", section="Finance")
        )
    newsroom.write("b.md", md("Budget elsewhere", "x", date="2024-06-01", section="Health"))
    newsroom.ingest()
    assert len(ids(newsroom, "budget")) == 6
    assert "b" not in ids(newsroom, "budget", section_slug="finance")
    year = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert sorted(ids(newsroom, "budget", published=year)) == ["a4", "b"]
    first = ids(newsroom, "budget", limit=4)
    second = ids(newsroom, "budget", offset=4, limit=4)
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
    found = newsroom.store.search.find(SearchQuery(("budget",), limit=1))
    assert found.total == 6
    assert ids(newsroom, "budget", scope="zh") == []


def test_embargoed_found_only_once_published_then_edits_and_withdrawal(newsroom: Newsroom) -> None:
    newsroom.write(
        "e.md",
        md(
            "Secret merger",
            "Zebrafish merger.",
            date="2026-11-27",
            publish_at="2026-11-28T09:00:00Z",
        ),
    )
    newsroom.ingest()
    assert ids(newsroom, "zebrafish") == []  # stored, not yet public
    assert newsroom.store.search.find(SearchQuery(("zebrafish",))).total == 0  # nor counted
    newsroom.clock.at = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    newsroom.store.releases.publish_due(newsroom.clock.at)
    assert ids(newsroom, "zebrafish") == ["e"]
    path = newsroom.write(
        "e.md",
        md("Secret merger", "Okapi merger.", date="2026-11-27", publish_at="2026-11-28T09:00:00Z"),
    )
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    newsroom.ingest()
    assert ids(newsroom, "okapi") == ["e"]
    assert ids(newsroom, "zebrafish") == []
    path.unlink()
    newsroom.ingest()
    assert ids(newsroom, "okapi") == []
    assert ids(newsroom, "merger") == []


def test_chinese_and_arabic(newsroom: Newsroom) -> None:
    newsroom.write(
        "zh.md", md("新闻", "<p>国务院今天发布了关于加强环境保护的通知。</p>", date="2026-11-01")
    )
    newsroom.write("pairs.md", md("对", "<p>中国人。国人民。</p>", date="2026-11-01"))
    newsroom.write("ar.md", md("خبر", "أعلنت الوزارةُ عن مُبادَرة جديدة.", date="2026-11-01"))
    newsroom.ingest()
    assert ids(newsroom, "环境") == ["zh"]  # a word in the middle of the sentence
    assert ids(newsroom, "环境保护") == ["zh"]
    assert ids(newsroom, "境保护通") == []
    # A word's bigrams must be adjacent and in order: a phrase, not any of them.
    assert ids(newsroom, "中国人") == ids(newsroom, "国人民") == ["pairs"]
    assert ids(newsroom, "中国人民") == []
    assert ids(newsroom, "مبادرة") == ["ar"]
    assert ids(newsroom, "مُبَادَرَة") == ["ar"]  # with diacritics
    assert ids(newsroom, "الوزارة") == ["ar"]
    assert ids(newsroom, "اعلنت") == ["ar"]  # أعلنت: alef with hamza is alef
    assert ids(newsroom, "ٱلوزارة") == ["ar"]  # alef wasla too


def test_hostile_terms_are_only_words(newsroom: Newsroom) -> None:
    newsroom.write("a.md", md("Near the bridge", "Drop everything.", date="2026-11-01"))
    newsroom.ingest()
    for q in ['"', "NEAR(", "*", "-", "'; DROP", "near*", 'a"b', "x" * 10_000, "\x00"]:
        ids(newsroom, q)  # no error
    assert ids(newsroom, 'NEAR("bridge"') == ["a"]
    # The store quotes whatever terms it is given: FTS5 and tsquery syntax stay text.
    raw = ('"', "NEAR(a b)", "*", "a OR b", "x:y", "!a & b | c", "'; DROP TABLE releases; --")
    for term in raw:
        found = newsroom.store.search.find(SearchQuery((term, "bridge"))).releases
        assert [r.id for r in found] in ([], ["a"])  # an error would be a 500
    assert ids(newsroom, "bridge") == ["a"]
