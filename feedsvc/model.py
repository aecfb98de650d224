"""The domain: what a release is, before and after it is stored. Imports nothing of feedsvc."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """'News & Events' -> 'news-events'; 'Zoë Müller' -> 'zoe-muller'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-") or "section"


@dataclass(frozen=True)
class Release:
    """A release as read from its file: what the press office wrote."""

    id: str
    title: str
    section: str
    published: dt.datetime
    body_html: str
    summary: str
    language: str
    source: str  # path relative to the items folder, '/'-separated
    content_hash: str
    tags: tuple[str, ...] = ()
    author: str | None = None
    publish_at: dt.datetime | None = None
    updated: dt.datetime | None = None  # set only by front matter

    def __post_init__(self) -> None:
        for name in ("published", "publish_at", "updated"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Release.{name} must be timezone-aware")

    @property
    def section_slug(self) -> str:
        return slugify(self.section)


@dataclass(frozen=True)
class StoredRelease:
    """A release as the store knows it: the file's content plus its publication history."""

    release: Release
    seq: int  # order of first publication; fixes the archive page a release lives on
    tag_date: dt.date  # first publication date, frozen into the tag URI
    updated: dt.datetime  # last change of content (>= published for feed readers)
    withdrawn_at: dt.datetime | None = None

    @property
    def id(self) -> str:
        return self.release.id

    def tag_uri(self, authority: str) -> str:
        """RFC 4151 tag URI: survives a change of base_url, title or text."""
        return f"tag:{authority},{self.tag_date.isoformat()}:release:{self.release.id}"


@dataclass(frozen=True)
class ListedRelease:
    """What a list of releases shows (index pages, sitemap): no body."""

    id: str
    title: str
    section: str
    section_slug: str
    summary: str
    language: str
    published: dt.datetime
    updated: dt.datetime

    @classmethod
    def of(cls, stored: StoredRelease) -> ListedRelease:
        r = stored.release
        return cls(
            r.id,
            r.title,
            r.section,
            r.section_slug,
            r.summary,
            r.language,
            r.published,
            stored.updated,
        )


class FileState(NamedTuple):
    """What is known of a release file without reading it: same state, same release.
    A NamedTuple: a scan makes one per file, every few seconds."""

    mtime_ns: int
    size: int


@dataclass(frozen=True)
class ReadProblem:
    """A release file that could not be read; the rest still publish."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
