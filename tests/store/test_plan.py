"""What a sync decides, without a database (issue 13): plan_sync is given the stored rows
and the files read or gone, and says what to add, edit, leave and withdraw."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from feedsvc.model import FileState, Release
from feedsvc.store.plan import Known, SyncPlan, plan_sync

TZ = ZoneInfo("Asia/Shanghai")  # UTC+8: a local day is not the UTC day
NOW = dt.datetime(2026, 12, 7, 2, 21, tzinfo=dt.UTC)  # 10:21 on Dec 7 in Shanghai
STATE = FileState(1_000, 10)


def release(
    rid: str = "a",
    source: str = "a.txt",
    digest: str = "v1",
    published: dt.datetime = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC),
    **more: object,
) -> Release:
    return Release(
        id=rid,
        title=rid.upper(),
        section=str(more.pop("section", "News")),
        published=published,
        body_html="<p>text</p>",
        summary="text",
        language=str(more.pop("language", "en")),
        source=source,
        content_hash=digest,
        **more,  # type: ignore[arg-type]
    )


def known(
    rid: str = "a",
    source: str = "a.txt",
    digest: str = "v1",
    seq: int | None = 1,
    withdrawn_at: dt.datetime | None = None,
    slug: str = "news",
    published: dt.datetime = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC),
) -> Known:
    return Known(rid, source, digest, withdrawn_at, seq, slug, published)


def plan(
    rows: list[Known],
    read: list[Release],
    gone: set[str] = frozenset(),  # type: ignore[assignment]
    now: dt.datetime = NOW,
) -> SyncPlan:
    """As the releases manager asks: `known` by the ids read, `live` by the sources."""
    ids = {r.key for r in read}
    sources = {r.source for r in read} | set(gone)
    by_id = {row.id: row for row in rows if row.id in ids}
    live = [row for row in rows if row.source in sources and row.withdrawn_at is None]
    return plan_sync(by_id, live, [(r, STATE) for r in read], set(gone), now, TZ)


def test_a_new_file_is_added_unpublished_with_its_tag_date_and_updated() -> None:
    p = plan([], [release(updated=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))])
    assert p.changes.added == ["a"] and not p.edited and not p.unchanged and not p.withdrawn
    values = p.added[0]
    assert values["seq"] is None and values["withdrawn_at"] is None
    assert values["published"] == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    # `updated` is never before `published`; the tag date is the local day (Shanghai).
    assert values["updated"] == values["published"]
    assert values["tag_date"] == dt.date(2026, 12, 1)
    assert (values["mtime_ns"], values["size"]) == (STATE.mtime_ns, STATE.size)
    assert not p.changes.events and not p.changes.sections  # not public yet


def test_a_day_without_a_time_arriving_that_day_is_dated_now() -> None:
    today = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 09:00 Dec 7 local, the default
    p = plan([], [release(published=today, time_stated=False)])
    assert p.added[0]["published"] == NOW
    assert p.added[0]["updated"] == NOW
    assert p.added[0]["tag_date"] == dt.date(2026, 12, 7)


def test_a_day_without_a_time_arriving_another_day_keeps_its_default_time() -> None:
    earlier = dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC)
    p = plan([], [release(published=earlier, time_stated=False)])
    assert p.added[0]["published"] == earlier


def test_a_stated_time_on_the_same_day_is_kept() -> None:
    today = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    p = plan([], [release(published=today)])
    assert p.added[0]["published"] == today


def test_an_unchanged_file_only_notes_its_file_state() -> None:
    p = plan([known()], [release()])
    assert p.unchanged == [{"b_id": "a", "mtime_ns": 1_000, "size": 10, "source": "a.txt"}]
    assert not p.added and not p.edited and not p.withdrawn and not p.changes


def test_an_edit_of_a_public_release_is_news_in_both_sections() -> None:
    p = plan([known(seq=4, slug="old")], [release(digest="v2", section="New")])
    assert p.changes.updated == ["a"]
    assert p.edited[0]["b_id"] == "a" and p.edited[0]["withdrawn_at"] is None
    assert p.edited[0]["updated"] == NOW  # no `updated` in the file: the moment it was read
    assert p.changes.events == [("release.updated", "a")]
    assert p.changes.sections == {"old", "new"} and p.changes.seqs == {(None, 4)}


def test_an_edit_under_embargo_is_not_news() -> None:
    p = plan([known(seq=None)], [release(digest="v2")])
    assert p.changes.updated == ["a"]
    assert not p.changes.events and not p.changes.sections and not p.changes.seqs


def test_an_edit_after_the_embargo_keeps_the_moment_it_became_visible() -> None:
    lifted = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    p = plan([known()], [release(digest="v2", publish_at=lifted)])
    assert p.edited[0]["published"] == lifted


def test_an_edit_of_a_day_without_a_time_keeps_the_stored_moment_that_day() -> None:
    given = dt.datetime(2026, 12, 1, 3, 17, tzinfo=dt.UTC)  # when the store dated it
    p = plan([known(published=given)], [release(digest="v2", time_stated=False)])
    assert p.edited[0]["published"] == given
    # Another day in the file: the file's day (at its default time) wins.
    moved = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)
    p = plan([known(published=given)], [release(digest="v2", time_stated=False, published=moved)])
    assert p.edited[0]["published"] == moved


def test_a_withdrawn_release_whose_file_came_back_is_published_again() -> None:
    gone_at = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    p = plan([known(seq=2, withdrawn_at=gone_at)], [release()])  # same content
    assert p.changes.updated == ["a"] and p.edited[0]["withdrawn_at"] is None
    assert p.changes.events == [("release.published", "a")]


def test_a_gone_file_is_withdrawn_and_a_public_one_leaves_a_tombstone() -> None:
    rows = [known("a", "a.txt", seq=3), known("b", "b.txt", seq=None, slug="other")]
    p = plan(rows, [], gone={"a.txt", "b.txt"})
    assert p.withdrawn == ["a", "b"] and p.changes.withdrawn == ["a", "b"]
    assert p.changes.events == [("release.withdrawn", "a")]  # b was never public
    assert p.changes.sections == {"news"} and p.changes.seqs == {(None, 3)}


def test_a_bad_file_keeps_its_last_good_version() -> None:
    # A file that is there but unreadable is neither read nor gone: nothing is decided.
    rows = [known("a", "a.txt"), known("b", "b.txt", seq=2)]
    p = plan(rows, [release("b", "b.txt", digest="v2")])
    assert p.withdrawn == [] and p.changes.updated == ["b"]


def test_a_changed_id_withdraws_the_old_one() -> None:
    p = plan([known("old", "a.txt", seq=5)], [release("new", "a.txt")])
    assert p.changes.added == ["new"] and p.withdrawn == ["old"]
    assert p.changes.events == [("release.withdrawn", "old")]


def test_a_second_file_with_the_same_id_is_refused_and_the_first_keeps_it() -> None:
    p = plan([], [release("a", "b.txt", digest="v2"), release("a", "a.txt")])
    assert p.changes.added == ["a"] and p.added[0]["source"] == "a.txt"
    assert p.changes.duplicates == [("b.txt", "a", "a.txt")]


def test_an_id_held_by_a_file_still_there_is_refused() -> None:
    rows = [known("a", "a.txt"), known("b", "b.txt", seq=2)]
    p = plan(rows, [release("a", "b.txt")])  # b.txt now says it is a
    assert p.changes.duplicates == [("b.txt", "a", "a.txt")]
    # The refused file keeps its last good release, as a bad file does.
    assert not p.added and not p.edited and p.withdrawn == []


def test_an_id_whose_file_is_gone_moves_to_the_new_file() -> None:
    p = plan([known("a", "old.txt")], [release("a", "new.txt")], gone={"old.txt"})
    assert not p.changes.duplicates and not p.withdrawn
    assert p.unchanged[0]["source"] == "new.txt"  # same content: the row follows the file


def test_an_id_held_by_a_withdrawn_release_is_free() -> None:
    gone_at = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    p = plan([known("a", "old.txt", withdrawn_at=gone_at)], [release("a", "new.txt")])
    assert not p.changes.duplicates
    assert p.edited[0]["source"] == "new.txt"
    assert p.changes.events == [("release.published", "a")]


# -- issue 15: translations are releases of their own, keyed by language ---------------------


def test_translations_share_an_id_and_are_stored_apart() -> None:
    zh = release(source="a.zh.txt", language="zh", key="a@zh", section="新闻")
    p = plan([], [release(), zh])
    assert p.changes.added == ["a", "a@zh"] and not p.changes.duplicates
    rows = {row["id"]: row for row in p.added}
    assert rows["a@zh"]["release_id"] == "a" and rows["a@zh"]["scope"] == "zh"
    assert rows["a"]["release_id"] == "a" and rows["a"]["scope"] == ""


def test_a_translation_takes_the_tag_date_of_its_stored_release() -> None:
    zh = release(source="a.zh.txt", language="zh", key="a@zh", published=NOW)
    p = plan_sync({}, [], [(zh, FileState(1, 1))], set(), NOW, dt.UTC, {"a": dt.date(2020, 9, 11)})
    assert p.added[0]["tag_date"] == dt.date(2020, 9, 11)
    alone = plan([], [zh])
    assert alone.added[0]["tag_date"] == NOW.date()  # no other language yet: its own day


def test_two_files_of_one_language_for_one_release_are_duplicates() -> None:
    p = plan([], [release(source="a.zh.txt", key="a@zh"), release(source="b.txt", key="a@zh")])
    assert p.changes.added == ["a@zh"]
    assert p.changes.duplicates == [("b.txt", "a@zh", "a.zh.txt")]


def test_a_file_that_changes_language_withdraws_its_old_translation() -> None:
    old = known(seq=3, slug="news")
    p = plan([old], [release(digest="v2", language="zh", key="a@zh")])
    assert p.changes.added == ["a@zh"] and p.withdrawn == ["a"]
    assert p.changes.events == [("release.withdrawn", "a")]
    assert p.changes.seqs == {(None, 3)} and p.changes.sections == {"news"}


def test_a_change_of_a_translation_is_named_in_its_language() -> None:
    row = known(rid="a@zh", source="a.zh.txt", seq=2, slug="新闻")
    p = plan([row], [release(source="a.zh.txt", digest="v2", key="a@zh", section="新闻")])
    assert p.changes.updated == ["a@zh"]
    assert p.changes.sections == {"新闻@zh"} and p.changes.seqs == {("zh", 2)}
    mine = p.changes.in_scope("zh")
    assert mine.updated == ["a"] and mine.sections == {"新闻"} and mine.seqs == {("zh", 2)}
    assert not p.changes.in_scope(None)
