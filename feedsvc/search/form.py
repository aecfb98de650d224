"""A search request's fields (issue 17 item 1), checked one by one: what a bad one is called
goes back to the reader in a 400 page naming the field. Pure: no HTTP, no SQL."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from feedsvc.i18n import N_, Message
from feedsvc.model import slugify

__all__ = ["MAX_PAGE", "MAX_Q", "PER_PAGE", "SearchForm", "SearchInvalid", "parse", "year_span"]

MAX_Q = 200  # characters of a query: more is never words someone typed
PER_PAGE = 20
MAX_PAGE = 50  # store.search.COUNT_CAP / PER_PAGE: the pages a capped count offers
_YEAR = re.compile(r"[12][0-9]{3}")
_NUMBER = re.compile(r"[1-9][0-9]{0,3}")


class SearchInvalid(ValueError):
    def __init__(self, field: str, message: Message) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    section: str | None = None  # a section slug
    year: int | None = None
    page: int = 1

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE


def parse(query_string: bytes) -> SearchForm:
    """The fields of a search URL's query; SearchInvalid names the first bad one."""
    try:
        fields = parse_qs(
            query_string.decode("ascii"),
            keep_blank_values=True,
            max_num_fields=10,
            encoding="utf-8",
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise SearchInvalid("q", N_("The search could not be read.")) from error
    q = _one(fields, "q")
    if len(q) > MAX_Q:
        raise SearchInvalid("q", N_("Search for at most %(n)d characters.", n=MAX_Q))
    if "\x00" in q:
        raise SearchInvalid("q", N_("The search could not be read."))
    section = _one(fields, "section") or None
    if section is not None and (len(section) > 200 or slugify(section) != section):
        raise SearchInvalid("section", N_("Choose a section from the list."))
    year = _one(fields, "year")
    if year and not _YEAR.fullmatch(year):
        raise SearchInvalid("year", N_("A year has four digits, such as 2024."))
    page = _one(fields, "page") or "1"
    if not _NUMBER.fullmatch(page) or int(page) > MAX_PAGE:
        raise SearchInvalid("page", N_("A page is a number from 1 to %(n)d.", n=MAX_PAGE))
    return SearchForm(q.strip(), section, int(year) if year else None, int(page))


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def year_span(year: int, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[1 January, 1 January of the next year) in the site's time zone, as instants."""
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    return start, dt.datetime(year + 1, 1, 1, tzinfo=tz)
