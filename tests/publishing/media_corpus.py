"""A press office with pictures and attachments (issue 14), for the page and feed tests:
real images made by Pillow under items/, their `MediaRef`s as the reader makes them, the
releases synced into the store, and a `Site` with a `ReleaseMedia` over that folder."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from feedsvc.build import site_of
from feedsvc.media import MediaCache
from feedsvc.model import FileState, MediaRef, Release
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.site import Document, Site
from tests.conftest import Newsroom
from tests.media.pictures import camera_exif, encode, photo

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Asia/Shanghai")
# What a press office may write, and an abuser too: quotes, angle brackets, ampersands.
ALT = 'The minister "signs" <the> accord & more'
DETAIL_ALT = "Close-up of the seal and ribbon"
CAPTION = "Signing, 5 December <2026>"
CREDIT = "Ministry & J. Doe"
STATEMENT_TITLE = 'Full statement "final" <PDF>'
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n" + b" " * 1500
BODY = (
    "<p>The minister signed the accord today.</p>\n"
    '<p><img src="detail.png" alt="Close-up of the seal and ribbon" title="The seal"></p>\n'
    '<p>Read the <a href="statement.pdf">full statement</a>.</p>'
)


@dataclass
class MediaRoom:
    newsroom: Newsroom
    media: ReleaseMedia
    refs: dict[str, MediaRef]
    release: Release

    def site(self, *, with_media: bool = True) -> Site:
        room, media = self.newsroom, self.media if with_media else None
        return site_of(room.settings, room.store.releases, room.clock, media)

    def documents(self, *, with_media: bool = True) -> dict[str, Document]:
        return {doc.path: doc for doc in self.site(with_media=with_media).documents()}

    def served(self, ref: str, name: str) -> bytes:
        """What releases/<id>/<name> serves: the bytes helper F's server and export send."""
        found = self.media.find(self.release, name)
        assert found is not None and found.ref == self.refs[ref], name
        return self.media.bytes_of(found)


def ref(items: Path, source: str, data: bytes, role: str, **fields: object) -> MediaRef:
    path = items / source
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return MediaRef(
        name=path.name,
        source=source,
        role=role,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        **fields,  # type: ignore[arg-type]
    )


def release(
    release_id: str, body: str, media: tuple[MediaRef, ...], hour: int, digest: str = "v1"
) -> Release:
    return Release(
        id=release_id,
        title=f"Release {release_id}",
        section="News",
        published=dt.datetime(2026, 12, 5, hour, 0, tzinfo=dt.UTC),
        body_html=body,
        summary="The minister signed the accord today.",
        language="en",
        source=f"{release_id}/index.md",
        content_hash=digest,
        media=media,
    )


def make_media_room(newsroom: Newsroom, cache: Path) -> MediaRoom:
    items = newsroom.items
    picture = photo((1600, 1200))
    refs = {
        "photo": ref(
            items,
            "signing/photo.jpg",
            encode(picture, "JPEG", quality=90, exif=camera_exif(picture)),
            "image",
            media_type="image/jpeg",
            width=1600,
            height=1200,
            alt=ALT,
            caption=CAPTION,
            credit=CREDIT,
        ),
        "detail": ref(
            items,
            "signing/detail.png",
            encode(photo((900, 600)), "PNG"),
            "inline",
            media_type="image/png",
            width=900,
            height=600,
            alt=DETAIL_ALT,
        ),
        "statement": ref(
            items,
            "signing/statement.pdf",
            PDF,
            "attachment",
            media_type="application/pdf",
            title=STATEMENT_TITLE,
        ),
        "report": ref(
            items, "report/report.pdf", PDF + b"%", "attachment", media_type="application/pdf"
        ),
    }
    signing = release("signing", BODY, (refs["photo"], refs["detail"], refs["statement"]), 3)
    report = release("report", "<p>The annual report.</p>", (refs["report"],), 2)
    plain = release("plain", "<p>No files here.</p>", (), 1)
    newsroom.store.releases.sync(
        [(r, FileState(1_000, 10, "a" * 16)) for r in (signing, report, plain)], set(), NOW, TZ
    )
    media = ReleaseMedia(items, MediaCache(cache))
    return MediaRoom(newsroom, media, refs, signing)
