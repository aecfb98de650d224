"""What a release's front matter says, read key by key: each value is checked as it is
asked for, and a bad one raises a ReleaseError at the line that gave it (issue 13: the
steps of `_assemble` share these instead of closures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from feedsvc.errors import ReleaseError
from feedsvc.reading.base import Parsed
from feedsvc.reading.source import Source

FRONT_MATTER_KEYS = (
    "id",
    "title",
    "date",
    "section",
    "language",
    "tags",
    "summary",
    "author",
    "publish_at",
    "updated",
    "image",  # issue 14: the lead picture (references.py)
    "attachments",
    "translation_key",  # issue 15: links translations named otherwise (the release's id)
    "change_note",  # issue 16: an edit emailed to alert subscribers as an update
    "contact",  # issue 17: a key of config.toml's [contacts]
    "notes_to_editors",  # issue 17: text, or a list of notes
)
NOTE_MAX_CHARS = 2000  # a note to editors; a release has at most NOTES_MAX of them
NOTES_MAX = 20


class FrontMatter:
    def __init__(self, source: Source, parsed: Parsed, tz: dt.tzinfo, default_time: dt.time):
        self.meta = source.meta
        self.path = source.path
        self._first_line = source.first_line
        # A key the front matter gives is named at its line there; else where the text gave it.
        self._lines = {**parsed.lines, **source.meta_lines}
        self._tz = tz
        self._default_time = default_time

    def fail(self, key: str, message: str) -> ReleaseError:
        return ReleaseError(self.path, self._lines.get(key, self._first_line), message)

    def refuse_unknown_keys(self) -> None:
        unknown = sorted(set(self.meta) - set(FRONT_MATTER_KEYS))
        if unknown:
            raise self.fail(
                unknown[0],
                f"unknown front-matter key {unknown[0]!r}; expected one of: "
                + ", ".join(FRONT_MATTER_KEYS),
            )

    def text(self, key: str, fallback: str | None) -> str | None:
        if key not in self.meta:
            return fallback
        value = self.meta[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"front-matter {key!r} must be non-empty text")
        return " ".join(value.split())

    def moment(self, key: str) -> dt.datetime | None:
        if key not in self.meta:
            return None
        return _as_datetime(
            self.meta[key], self._tz, self._default_time, lambda m: self.fail(key, m), key
        )

    def day_at_default_time(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self._default_time, tzinfo=self._tz)

    def names_a_time(self, key: str) -> bool:
        """The value at `key` has a time of day, not only a day (as `moment` reads it)."""
        return key in self.meta and not _is_day(self.meta[key])

    def tags(self) -> tuple[str, ...]:
        return _tags(self.meta.get("tags", ()), lambda m: self.fail("tags", m))

    def notes(self, key: str) -> tuple[str, ...]:
        """Text (paragraphs split by blank lines) or a list of text: one note each, its
        lines joined (issue 17: notes to editors)."""
        value = self.meta.get(key, ())
        if isinstance(value, str):
            value = value.split("\n\n")
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"front-matter {key!r} must be text or a list of text")
        notes = tuple(n for n in (" ".join(v.split()) for v in value) if n)
        if len(notes) > NOTES_MAX:
            raise self.fail(
                key, f"front-matter {key!r} has {len(notes)} notes (at most {NOTES_MAX})"
            )
        for note in notes:
            if len(note) > NOTE_MAX_CHARS:
                raise self.fail(
                    key, f"a note in front-matter {key!r} is over {NOTE_MAX_CHARS:,} characters"
                )
        return notes


def _is_day(value: Any) -> bool:
    """A front-matter date that names a day, with no time of day (as _as_datetime reads it)."""
    if isinstance(value, str):
        return len(value.strip()) == 10
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _as_datetime(
    value: Any, tz: dt.tzinfo, at: dt.time, fail: Callable[[str], ReleaseError], key: str
) -> dt.datetime:
    if isinstance(value, str):
        try:
            text = value.strip()
            # A bare date is a date (default time), not midnight.
            value = (
                dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            raise fail(
                f"front-matter {key!r} is not a date: {value!r} "
                "(expected e.g. 2020-09-11 or 2020-09-11T09:00:00+08:00)"
            ) from None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, at, tzinfo=tz)
    raise fail(f"front-matter {key!r} must be a date or a date and time")


def _tags(value: Any, fail: Callable[[str], ReleaseError]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise fail("front-matter 'tags' must be a list of text")
    seen: dict[str, None] = {}
    for tag in value:
        tag = " ".join(tag.split())
        if tag:
            seen.setdefault(tag)
    return tuple(seen)
