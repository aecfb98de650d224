"""Issue 18: a feed entry's element is made once and copied into each feed that lists it.
The bytes must be those of an entry made afresh, and anything an entry is made of must
make it again."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from feedsvc.publishing.atom import AtomWriter
from feedsvc.publishing.entry_elements import ELEMENTS, KEPT, remember_entries
from feedsvc.publishing.feed import Attachment, Entry, Feed, TagRef
from feedsvc.publishing.rss import RssWriter
from tests.conftest import Newsroom

UTC = dt.UTC
PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture(autouse=True)
def kept() -> Iterator[None]:
    """Kept, as in the renderer process; the default (nothing kept) again after."""
    remember_entries(KEPT)
    yield
    remember_entries(0)


def entry(n: int, **changed: object) -> Entry:
    at = dt.datetime(2026, 3, n, 9, 30, tzinfo=UTC)
    made = Entry(
        id=f"tag:press.example.org,2026-03-0{n}:release:r{n}",
        url=f"https://press.example.org/releases/r{n}/",
        title=f"Release <{n}> & “more”",
        summary="A summary with <b>markup</b> & an ampersand.",
        content_html=f"<p>Body {n}.</p>",
        published=at,
        updated=at,
        section="Press Releases",
        tags=("Trade",),
        author="Press Office",
        language="en",
        attachments=(
            Attachment(
                url=f"https://press.example.org/releases/r{n}/report.pdf",
                media_type="application/pdf",
                length=1234,
                title="Report",
            ),
        ),
        translations=(("fr", f"https://press.example.org/fr/releases/r{n}/"),),
        tag_refs=(TagRef(name="Trade", slug="trade", url="https://press.example.org/tags/trade/"),),
    )
    return dataclasses.replace(made, **changed)  # type: ignore[arg-type]


def feed(*entries: Entry) -> Feed:
    return Feed(
        id="tag:press.example.org,2026:feed",
        title="Press",
        description="Releases",
        language="en",
        author="Press Office",
        base_url="https://press.example.org/",
        folder="",
        home_url="https://press.example.org/",
        updated=max(e.updated for e in entries),
        entries=entries,
        ttl_minutes=15,
        stylesheet_url="https://press.example.org/assets/feed.xsl",
        tag_scheme="https://press.example.org/tags/",
    )


WRITERS = (RssWriter(), AtomWriter())


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.filename)
def test_a_kept_entry_gives_the_bytes_of_one_made_afresh(writer: RssWriter) -> None:
    remember_entries(0)
    fresh = writer.render(feed(entry(3), entry(2), entry(1)))
    remember_entries(KEPT)
    first = writer.render(feed(entry(3), entry(2), entry(1)))
    # Entries 2 and 1 now come from what was kept, in another feed and another order.
    again = writer.render(feed(entry(2), entry(1)))
    assert first == fresh
    assert b"Body 3" not in again and again.count(b"Body 2") == 1
    remember_entries(0)
    assert again == writer.render(feed(entry(2), entry(1)))


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.filename)
@pytest.mark.parametrize(
    ("changed", "shows"),
    [
        ({"title": "A corrected title"}, b"A corrected title"),
        ({"content_html": "<p>Edited body.</p>"}, b"Edited body."),
        ({"author": "Minister's Office"}, b"Minister's Office"),
        # The same instant in another zone is written with another offset.
        ({"published": dt.datetime(2026, 3, 2, 10, 30, tzinfo=PARIS_WINTER)}, b"+0100"),
    ],
)
def test_anything_an_entry_is_made_of_makes_it_again(
    writer: RssWriter, changed: dict[str, object], shows: bytes
) -> None:
    before = writer.render(feed(entry(2)))
    after = writer.render(feed(entry(2, **changed)))
    if shows == b"+0100" and writer.filename == "atom.xml":
        shows = b"+01:00"
    assert shows not in before
    assert shows in after


def test_atom_entries_are_kept_apart_by_the_tag_scheme() -> None:
    writer = AtomWriter()
    writer.render(feed(entry(2)))
    other = dataclasses.replace(feed(entry(2)), tag_scheme="https://press.example.org/fr/tags/")
    assert b'scheme="https://press.example.org/fr/tags/"' in writer.render(other)


def test_a_thread_keeps_only_the_newest_entries() -> None:
    remember_entries(3)
    writer = RssWriter()
    writer.render(feed(*(entry(n) for n in range(1, 6))))
    made = ELEMENTS._local.made
    assert len(made) == 3
    assert [key[0].id for key in made][-1].endswith("r5")


def test_a_change_re_renders_feeds_with_the_same_bytes_as_a_fresh_process(
    newsroom: Newsroom,
) -> None:
    """The path a change takes (Sites.changed_feeds after an ingest), entries kept from
    the renders before, against the same feeds with nothing kept."""
    for n in range(1, 4):
        newsroom.add(f"r{n}.txt", f"Release {n}", f"March {n}, 2021", section="Speeches")
    newsroom.ingest()
    site = newsroom.site
    list(site.default.main_feeds())  # entries kept
    newsroom.add("r4.txt", "Release 4", "March 4, 2021", section="Speeches")
    newsroom.add("r2.txt", "Release 2, corrected", "March 2, 2021", section="Speeches")
    changes = newsroom.ingest().changes
    kept = {doc.path: doc.body for doc in site.changed_feeds(changes)}
    remember_entries(0)
    fresh = {doc.path: doc.body for doc in newsroom.site.changed_feeds(changes)}
    assert kept == fresh
    assert b"Release 2, corrected" in kept["feed.xml"]
