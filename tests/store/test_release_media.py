"""The files a release names, stored (issue 14): `releases.media` holds its MediaRefs as
canonical JSON and gives them back in `Release.media`; `media_state` is part of the file
state a scan compares. On SQLite and PostgreSQL (FEEDSVC_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from feedsvc.model import FileState, MediaRef, Release
from tests.conftest import Newsroom, db_rows

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Asia/Shanghai")
PHOTO = MediaRef(
    name="photo.jpg",
    source="signing/photo.jpg",
    role="image",
    media_type="image/jpeg",
    size=123_456,
    sha256="ab" * 32,
    width=1200,
    height=800,
    alt="The minister signs the accord",
    caption="Signing, 5 December",
    credit="Ministry / J. Doe",
)
STATEMENT = MediaRef(
    name="statement.pdf",
    source="signing/statement.pdf",
    role="attachment",
    media_type="application/pdf",
    size=9_876,
    sha256="cd" * 32,
    title="Full statement (PDF) — «text»",
)


def signing(*media: MediaRef, digest: str = "v1") -> Release:
    return Release(
        id="signing",
        title="Accord signed",
        section="News",
        published=dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC),
        body_html="<p>text</p>",
        summary="text",
        language="en",
        source="signing/index.md",
        content_hash=digest,
        media=media,
    )


def test_media_round_trip(newsroom: Newsroom) -> None:
    state = FileState(1_000, 10, "f" * 16)
    newsroom.store.releases.sync([(signing(PHOTO, STATEMENT), state)], set(), NOW, TZ)
    stored = newsroom.store.releases.get("signing")
    assert stored is not None
    assert stored.release.media == (PHOTO, STATEMENT)
    assert stored.release.lead_image == PHOTO
    assert newsroom.store.releases.file_states() == {"signing/index.md": state}
    assert newsroom.store.releases.media_sources() == {
        "signing/index.md": ("signing/photo.jpg", "signing/statement.pdf")
    }
    [(text,)] = db_rows(newsroom.settings.database.url, "SELECT media FROM releases")
    # Canonical: sorted keys, no spaces, so every instance stores the same text.
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert text.startswith('[{"alt":"The minister signs the accord","caption":')


def test_a_release_without_files_stores_null(newsroom: Newsroom) -> None:
    newsroom.store.releases.sync([(signing(), FileState(1_000, 10))], set(), NOW, TZ)
    stored = newsroom.store.releases.get("signing")
    assert stored is not None and stored.release.media == ()
    assert db_rows(newsroom.settings.database.url, "SELECT media, media_state FROM releases") == [
        (None, None)
    ]
    assert newsroom.store.releases.file_states() == {"signing/index.md": FileState(1_000, 10)}
    assert newsroom.store.releases.media_sources() == {}


def test_removing_a_file_is_stored(newsroom: Newsroom) -> None:
    releases = newsroom.store.releases
    releases.sync([(signing(PHOTO, STATEMENT), FileState(1, 10, "a" * 16))], set(), NOW, TZ)
    later = NOW + dt.timedelta(hours=1)
    changes = releases.sync(
        [(signing(PHOTO, digest="v2"), FileState(1, 10, "b" * 16))], [], later, TZ
    )
    assert changes.updated == ["signing"]
    stored = releases.get("signing")
    assert stored is not None and stored.release.media == (PHOTO,)
    assert stored.updated == later
    assert releases.file_states()["signing/index.md"].media == "b" * 16


def test_an_unchanged_release_notes_its_files_new_state(newsroom: Newsroom) -> None:
    releases = newsroom.store.releases
    releases.sync([(signing(PHOTO), FileState(1, 10, "a" * 16))], set(), NOW, TZ)
    # Same content (a photo copied over with the same bytes): nothing changes but the state.
    assert not releases.sync([(signing(PHOTO), FileState(2, 10, "c" * 16))], [], NOW, TZ)
    assert releases.file_states()["signing/index.md"] == FileState(2, 10, "c" * 16)
