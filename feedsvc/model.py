"""The domain: what a release is, before and after it is stored. Imports nothing of feedsvc."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG_SEPARATORS = re.compile(r"-+")
# What a release id may be (issue 13 item 1: one rule, for the reader that makes ids, the
# URL layout that parses them back and the share desk): it is a path segment of its page.
RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def is_release_id(text: str) -> bool:
    return RELEASE_ID.fullmatch(text) is not None


# Issue 15: a language is part of a document's identity. A release's row in the store (its
# key) and the section slugs a change names are "scoped": the name itself in the site's
# own language, "<name>@<tag>" in another ('@' is in no release id and no slug).
SCOPE_MARK = "@"


def scoped(name: str, language: str | None) -> str:
    """`name` in the scope of `language` (None: the site's own language)."""
    return name if language is None else f"{name}{SCOPE_MARK}{language}"


def unscoped(key: str) -> tuple[str, str | None]:
    """'abc@zh' -> ('abc', 'zh'); 'abc' -> ('abc', None)."""
    name, mark, language = key.partition(SCOPE_MARK)
    return (name, language) if mark else (name, None)


def slugify(text: str, *, ascii_only: bool = False) -> str:
    """'News & Events' -> 'news-events'; 'Zoë Müller' -> 'zoe-muller'; '外交部新闻' ->
    '外交部新闻'; 'Пресс-релизы' -> 'пресс-релизы'.

    Latin text keeps the slugs it always had (accents dropped, other non-ASCII dropped,
    ASCII punctuation a '-'). Issue 15: the letters and digits of other scripts, with the
    marks that belong to them, are the slug itself, as Hugo and WordPress keep them (an
    IRI). `ascii_only` is the old rule alone, for what must stay ASCII (release ids)."""
    decomposed = unicodedata.normalize("NFKD", text)
    if ascii_only or decomposed.isascii():
        ascii_text = decomposed.encode("ascii", "ignore").decode()
        return _NON_SLUG.sub("-", ascii_text.lower()).strip("-") or "section"
    kept: list[str] = []
    in_word = False  # the last character was a kept letter or digit of a non-Latin script
    for char in decomposed:
        if char.isascii():
            kept.append(char.lower() if char.isalnum() else "-")
            in_word = False
        elif unicodedata.category(char)[0] == "M":
            if in_word:  # a vowel sign, hamza or virama of the letter before it
                kept.append(char)
        elif _is_other_script_word_char(char):
            kept.append(char.lower())
            in_word = True
        else:
            in_word = False  # dropped, as before issue 15: not a separator
    slug = _SLUG_SEPARATORS.sub("-", "".join(kept)).strip("-")
    return unicodedata.normalize("NFC", slug) or "section"


def tag_slug(name: str) -> str:
    """A tag's URL segment (issue 17): its slug, as a section's (tags/<slug>/)."""
    return slugify(name)


# What an alert subscriber follows (issue 16) is a list of section slugs; issue 17 adds
# tags to it as "tag:<slug>" (no slug holds a ':', so the two never clash).
FOLLOWED_TAG = "tag:"


def followed_tag(entry: str) -> str | None:
    """The tag slug of a followed entry "tag:<slug>", or None for a section slug."""
    return entry[len(FOLLOWED_TAG) :] if entry.startswith(FOLLOWED_TAG) else None


def follows(followed: Iterable[str] | None, section_slug: str, tags: Iterable[str]) -> bool:
    """Whether a subscriber following `followed` (None: everything) is told of a release
    in `section_slug` with the tag names `tags` (the fan-out's SQL says the same)."""
    if followed is None:
        return True
    chosen = set(followed)
    return section_slug in chosen or any(FOLLOWED_TAG + tag_slug(t) in chosen for t in tags)


def _is_other_script_word_char(char: str) -> bool:
    """A letter or decimal digit of a script other than Latin (Latin non-ASCII letters
    that NFKD leaves, such as 'ø' or 'ß', are dropped as they always were)."""
    category = unicodedata.category(char)
    if category[0] != "L" and category != "Nd":
        return False
    return not unicodedata.name(char, "").startswith("LATIN ")


# What a file a release names may be called (issue 14): one path segment with an extension,
# so that releases/<id>/<name> never clashes with the page (releases/<id>/) or its share form.
MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}(\.[A-Za-z0-9_-]{1,20})+")
MEDIA_ROLES = ("image", "inline", "attachment")


def is_media_name(text: str) -> bool:
    return MEDIA_NAME.fullmatch(text) is not None


@dataclass(frozen=True)
class MediaRef:
    """A file a release names (issue 14), as checked when the release was read: a picture
    (the lead `image` of front matter, or `inline` in the text) or an `attachment`. Its URL
    is releases/<id>/<name> (layout.release_file); a picture's variants are named from
    `sha256` (feedsvc.media.name)."""

    name: str  # the file's name in the release's folder (is_media_name)
    source: str  # path relative to the items folder, '/'-separated
    role: str  # one of MEDIA_ROLES
    media_type: str  # judged from the bytes
    size: int  # bytes
    sha256: str  # hex, of the file as read
    width: int | None = None  # pictures: as shown, EXIF orientation applied
    height: int | None = None
    has_alpha: bool = False
    alt: str = ""  # pictures: required, a press office describes its pictures
    caption: str = ""
    credit: str = ""
    title: str = ""  # attachments: the link text or front matter `title`

    @property
    def is_image(self) -> bool:
        return self.width is not None


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
    # False when the dateline or front-matter date gives a day and no time: `published` is
    # then that day at items.default_time, and the store may date it when it became visible.
    time_stated: bool = True
    # The files it names (issue 14), in the order named: front matter `image`, then the text's
    # pictures and links, then front matter `attachments`. Their hashes are in content_hash.
    media: tuple[MediaRef, ...] = ()
    # Issue 15: its identity in the store, scoped(id, language) for a language other than
    # the site's own (set by the reader, which knows the site's language); translations of
    # one release share `id` and differ in `key`.
    key: str = ""
    # Issue 16: front matter `change_note`: an edit that carries one is emailed to alert
    # subscribers as an update (an edit without one is not sent again).
    change_note: str | None = None
    # Issue 17: front matter `contact`, a key of config.toml's [contacts] (the reader
    # checks it names one), and `notes_to_editors`, the notes a press release ends with
    # (plain text, one item each; pages and feeds escape them).
    contact: str | None = None
    notes_to_editors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.id)
        for name in ("published", "publish_at", "updated"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Release.{name} must be timezone-aware")

    @property
    def section_slug(self) -> str:
        return slugify(self.section)

    @property
    def lead_image(self) -> MediaRef | None:
        """The picture that stands for the release (og:image, the feeds' image): front
        matter `image`, else the first picture in the text."""
        pictures = [m for m in self.media if m.is_image and m.role in ("image", "inline")]
        return next((m for m in pictures if m.role == "image"), pictures[0] if pictures else None)

    @property
    def attachments(self) -> tuple[MediaRef, ...]:
        return tuple(m for m in self.media if m.role == "attachment")


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

    @property
    def key(self) -> str:
        """Its row in the store: the id, scoped by language for a translation (issue 15)."""
        return self.release.key

    @property
    def scope(self) -> str | None:
        return unscoped(self.release.key)[1]

    def tag_uri(self, authority: str) -> str:
        """RFC 4151 tag URI: survives a change of base_url, title or text."""
        # A translation (issue 15) shares the id and tag date; its language keeps its entry
        # apart from the original's in readers that merge feeds.
        scope = self.scope
        suffix = "" if scope is None else f":{scope}"
        return f"tag:{authority},{self.tag_date.isoformat()}:release:{self.release.id}{suffix}"


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
    A NamedTuple: a scan makes one per file, every few seconds.

    A release that names files (issue 14) has a combined state: `mtime_ns` is the newest
    of its text's mtime and its files' mtimes and ctimes, and `media` a digest of its
    files' states (reading/file_states.py); "" for a release without files."""

    mtime_ns: int
    size: int
    media: str = ""


@dataclass(frozen=True)
class ReadProblem:
    """A release file that could not be read; the rest still publish."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# -- the outbox --------------------------------------------------------------------------

CHANNELS = ("email", "webhook", "websub")
STATUSES = ("pending", "sending", "delivered", "dead", "cancelled")


@dataclass(frozen=True)
class Outgoing:
    """A message to send, before the outbox stores it.

    `key` is the idempotency key: a second Outgoing with the same key is the same message
    and is not stored twice. `subject` names what it is about (a release id, a share id)."""

    channel: str  # one of CHANNELS
    target: str  # a recipient address, a webhook endpoint URL, a hub URL
    payload: Mapping[str, Any]  # JSON-serialisable; what each channel expects is in its module
    key: str
    subject: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One outbound message as the outbox holds it, claimed or not."""

    id: int
    channel: str
    target: str
    payload: Mapping[str, Any]
    key: str
    status: str  # one of STATUSES
    attempts: int  # attempts started so far, this one included when claimed
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    subject: str | None = None
    last_error: str | None = None
    delivered_at: dt.datetime | None = None

    @property
    def stable_id(self) -> str:
        """The message's id for receivers to de-duplicate on: the same on every attempt
        (email Message-ID, webhook-id), and not guessable from the key."""
        digest = hashlib.sha256(self.key.encode()).digest()[:20]
        return base64.b32encode(digest).decode().lower()


@dataclass
class Changes:
    """What one ingest changed, so rendering can follow it instead of redoing everything."""

    added: list[str] = field(default_factory=list)  # stored, maybe still under embargo
    updated: list[str] = field(default_factory=list)  # content changed (visible or not)
    withdrawn: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # became visible now (seq assigned)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (path, key, other)
    # Issue 15: release keys above, and section slugs here, are scoped by language
    # (model.scoped); an archive position is (language scope, seq).
    sections: set[str] = field(default_factory=set)  # slugs whose feeds changed
    tags: set[str] = field(default_factory=set)  # issue 17: tag slugs (scoped) likewise
    seqs: set[tuple[str | None, int]] = field(default_factory=set)  # archive positions changed
    # What readers outside should hear of: (event type, release key), for public releases.
    events: list[tuple[str, str]] = field(default_factory=list)
    enqueued: int = 0  # deliveries the outbox took in the same transaction
    generation: int = 0  # its place in the change log (site_changes), once recorded

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.withdrawn or self.published)

    def in_scope(self, scope: str | None) -> Changes:
        """The part of this change in one language (None: the site's own), its names
        unscoped: what that language's feeds and pages follow."""

        def mine(names: Iterable[str]) -> list[str]:
            return [name for name, s in map(unscoped, names) if s == scope]

        return Changes(
            added=mine(self.added),
            updated=mine(self.updated),
            withdrawn=mine(self.withdrawn),
            published=mine(self.published),
            sections=set(mine(self.sections)),
            tags=set(mine(self.tags)),
            seqs={(s, n) for s, n in self.seqs if s == scope},
            events=[
                (kind, name)
                for kind, (name, s) in ((k, unscoped(key)) for k, key in self.events)
                if s == scope
            ],
            enqueued=self.enqueued,
            generation=self.generation,
        )

    def merge(self, other: Changes) -> None:
        self.added += other.added
        self.updated += other.updated
        self.withdrawn += other.withdrawn
        self.published += other.published
        self.duplicates += other.duplicates
        self.sections |= other.sections
        self.tags |= other.tags
        self.seqs |= other.seqs
        self.events += other.events
        self.enqueued += other.enqueued


@dataclass(frozen=True)
class ReleaseEvent:
    type: str  # release.published, release.updated, release.withdrawn
    release: StoredRelease


@dataclass(frozen=True)
class Scheduled:
    """A stored release waiting for its embargo to pass."""

    id: str
    title: str
    publish_at: dt.datetime
