"""The one contract every reader keeps: a Source in, the body and what the text says out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from feedsvc.errors import ReleaseError
from feedsvc.reading.dateline import DatelineError, find_dateline
from feedsvc.reading.references import Reference
from feedsvc.reading.source import Source


@dataclass(frozen=True)
class Parsed:
    """What a reader found in the text itself; front matter may override any of it."""

    body_html: str
    first_paragraph: str  # plain text, for the summary
    title: str | None = None
    section: str | None = None
    date: dt.date | None = None
    lines: dict[str, int] = field(default_factory=dict)  # field -> line, for error messages
    references: tuple[Reference, ...] = ()  # files the text names (issue 14), in order


class Reader(Protocol):
    def __call__(self, source: Source) -> Parsed: ...


def dateline_of(source: Source, paragraph: str, line: int) -> tuple[dt.date | None, int]:
    """The dateline date of a first paragraph that starts on `line`, and the date's own line."""
    try:
        found = find_dateline(paragraph)
    except DatelineError as e:
        raise ReleaseError(source.path, line + paragraph[: e.offset].count("\n"), str(e)) from None
    if found is None:
        return None, line
    return found.date, line + paragraph[: found.offset].count("\n")
