"""A first import publishes hundreds of releases at once; on SQLite they are indexed in one
statement, the update trigger set aside for that transaction (issue 18, SQLITE_BULK_INDEX).
The index must come out as the trigger would have made it, and the trigger must be back
for the single changes that follow: an edit, a withdrawal, an embargo ending."""

from __future__ import annotations

import datetime as dt
import os

from feedsvc.search.text import query_terms
from feedsvc.store.search import _BULK_INDEX, SearchQuery
from tests.conftest import Newsroom


def found(room: Newsroom, q: str) -> tuple[list[str], int]:
    result = room.store.search.find(SearchQuery(tuple(query_terms(q)), limit=1000))
    return [r.id for r in result.releases], result.total


def md(title: str, body: str, day: int, **extra: str) -> str:
    date = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}"
    meta = {"title": title, "section": "News", "date": date, **extra}
    head = "".join(f'{k} = "{v}"\n' for k, v in meta.items())
    return f"+++\n{head}+++\n\n{body}\n"


def test_a_bulk_publish_indexes_as_the_trigger_does_and_keeps_the_trigger(
    newsroom: Newsroom,
) -> None:
    for n in range(3):  # published on their own first: the bulk ones come after their seqs
        newsroom.write(f"early{n}.md", md(f"Early {n}", "Common harbour words.", n))
    newsroom.ingest()
    many = _BULK_INDEX + 20
    for n in range(many):
        newsroom.write(f"r{n:03d}.md", md(f"Release {n}", f"Common harbour words. w{n}x", n + 3))
    newsroom.write(
        "later.md",
        md("Later", "Zebrafish news.", 1, publish_at="2026-11-28T09:00:00Z"),
    )
    assert len(newsroom.ingest().changes.published) == many
    ids, total = found(newsroom, "harbour")
    assert total == many + 3 and len(set(ids)) == many + 3
    assert found(newsroom, f"w{many - 1}x")[0] == [f"r{many - 1:03d}"]
    assert found(newsroom, "release 7")[0][0] == "r007"  # the title tier: title terms
    assert found(newsroom, "zebrafish") == ([], 0)  # under embargo: not indexed

    # The trigger is back: an edit, a withdrawal and an embargo ending still index.
    path = newsroom.write("r005.md", md("Release 5", "Okapi words.", 8))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    (newsroom.items / "r006.md").unlink()
    newsroom.ingest()
    assert found(newsroom, "w5x") == ([], 0)
    assert found(newsroom, "okapi")[0] == ["r005"]
    assert found(newsroom, "w6x") == ([], 0)
    assert found(newsroom, "harbour")[1] == many + 3 - 2
    newsroom.clock.at = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    newsroom.store.releases.publish_due(newsroom.clock.at)
    assert found(newsroom, "zebrafish")[0] == ["later"]


def test_a_parallel_import_indexes_what_its_reading_processes_made(
    newsroom: Newsroom, monkeypatch
) -> None:
    """Issue 18: a large import makes each release's search text in the processes that read
    it, a batch read ahead while the one before is stored. Each text must be its own
    release's (not another file's of the same chunk or batch), and must be the text the
    store would make itself, Chinese bigrams and accents included."""
    import feedsvc.ingest
    import feedsvc.store.search

    made: list[str] = []
    real = feedsvc.store.search.index_text
    monkeypatch.setattr(
        feedsvc.store.search, "index_text", lambda *a: made.append(a[0]) or real(*a)
    )
    monkeypatch.setattr(feedsvc.ingest, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(feedsvc.ingest, "_CHUNK", 3)
    monkeypatch.setattr(feedsvc.ingest, "BATCH", 4)
    for n in range(11):
        newsroom.write(f"r{n:02d}.md", md(f"Café {n}", f"北京合作 w{n}x harbour", n))
    newsroom.write("bad.md", "+++\ntitle = \n+++\n")
    result = newsroom.ingest()
    assert len(result.changes.published) == 11
    assert [p.path for p in result.problems] == ["bad.md"]
    assert made == []  # every text came from a reading process
    for n in range(11):
        assert found(newsroom, f"w{n}x")[0] == [f"r{n:02d}"]
    assert found(newsroom, "北京")[1] == 11 and found(newsroom, "cafe 7")[0] == ["r07"]
    with newsroom.store.releases.engine.connect() as conn:
        stored = dict(conn.exec_driver_sql("SELECT id, search_text FROM releases").all())
    for n in range(11):
        release = newsroom.store.releases.get(f"r{n:02d}")
        assert release is not None
        got = release.release
        assert stored[f"r{n:02d}"] == real(got.title, got.summary, got.body_html)
