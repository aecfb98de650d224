"""Find the dateline: the date a press release states at the head of its first paragraph."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Dateline", "DatelineError", "find_dateline"]

# A date expression must start this early to be the dateline; later ones are mentions.
_HEAD = 160
_MIN_YEAR, _MAX_YEAR = 1900, 2200

# Spellings per month, January first, space-separated. Accent-free variants are listed because
# press offices and CMSs drop accents; abbreviations may take a period (the pattern allows one).
_MONTH_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "january jan",
        "february feb",
        "march mar",
        "april apr",
        "may",
        "june jun",
        "july jul",
        "august aug",
        "september sept sep",
        "october oct",
        "november nov",
        "december dec",
    ),
    "fr": (
        "janvier janv",
        "février fevrier févr fevr",
        "mars",
        "avril avr",
        "mai",
        "juin",
        "juillet juil",
        "août aout",
        "septembre sept",
        "octobre",
        "novembre",
        "décembre decembre déc",
    ),
    "de": (
        "januar jänner janner jän",
        "februar feber",
        "märz marz maerz mär mrz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober okt",
        "november",
        "dezember dez",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre setiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "pt": (
        "janeiro",
        "fevereiro",
        "março marco",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ),
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
}


def _month_numbers(tables: dict[str, tuple[str, ...]]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for lang, months in tables.items():
        for number, spellings in enumerate(months, start=1):
            for name in spellings.split():
                if numbers.setdefault(name, number) != number:
                    raise ValueError(f"month name {name!r} ({lang}) names two months")
    return numbers


_MONTHS = _month_numbers(_MONTH_NAMES)


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of `words`, factored as a trie.

    A flat alternation of ~90 month names would be tried name by name at every word start;
    the trie rejects a non-month on its first letter or two.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        ends_here = "" in node
        if not branches:
            return ""
        if len(branches) == 1 and not ends_here:
            return branches[0]
        group = "(?:" + "|".join(branches) + ")"
        return group + "?" if ends_here else group

    return build(trie)


_MONTH = _alternation(_MONTHS)
# Bounded so an expression can't outgrow _MAX_EXPR; \s covers NBSP, NARROW NBSP and line breaks.
_SP = r"\s{1,8}"
_SP0 = r"\s{0,8}"
_YEAR_SEP = rf"(?:,{_SP0}|{_SP})"
_NUMERIC_END = r"(?![0-9]|[./-][0-9])"

# One alternation, so a single search finds the leftmost (earliest) expression of any form.
# Each form is a named group (read back via lastgroup) with sub-groups <form>_y, _m, _d.
# It runs case-sensitively on lowercased text: IGNORECASE doubles the cost of the month trie.
_DATE = re.compile(
    # Shared by the Latin-script forms: not inside a word or number. "." keeps "2.0 May 2020"
    # from reading as day 0, "/" and "-" keep "2020-09-11" from matching at "09".
    r"(?<![\w./-])(?:"
    + "|".join(
        [
            # september 11, 2020 / sept. 11 2020 / september 11th, 2020
            rf"(?P<mdy>(?P<mdy_m>{_MONTH})(?!\w)\.?{_SP0}"
            rf"(?P<mdy_d>[0-9]{{1,2}})(?:st|nd|rd|th)?{_YEAR_SEP}(?P<mdy_y>[0-9]{{4}})(?![0-9]))",
            # 11 september 2020 / 11th of september, 2020 / 11. märz 2020 / 1er mars 2021 /
            # 11 de septiembre de 2020
            rf"(?P<dmy>(?P<dmy_d>[0-9]{{1,2}})(?:st|nd|rd|th|er|º|°|ª)?"
            rf"(?:\.{_SP0}|{_SP}(?:(?:of|de){_SP})?)"
            rf"(?P<dmy_m>{_MONTH})(?!\w)\.?{_YEAR_SEP}(?:del?{_SP})?"
            rf"(?P<dmy_y>[0-9]{{4}})(?![0-9]))",
            # 2020-09-11, 2020/09/11, 2020.09.11: year first, so unambiguous
            rf"(?P<ymd>(?P<ymd_y>[0-9]{{4}})(?P<ymd_sep>[-/.])"
            rf"(?P<ymd_m>[0-9]{{1,2}})(?P=ymd_sep)(?P<ymd_d>[0-9]{{1,2}}){_NUMERIC_END})",
            # 11/09/2020, 09.11.2020: day and month order can't be told apart. Matched so that
            # it counts as the dateline (and yields None) instead of letting a date mentioned
            # later in the sentence stand in for it.
            rf"(?P<ambiguous>[0-9]{{1,2}}(?P<amb_sep>[-/.])[0-9]{{1,2}}(?P=amb_sep)[0-9]{{4}}"
            rf"{_NUMERIC_END})",
        ]
    )
    # 2020年9月11日 (Chinese/Japanese releases): the character before is usually a CJK one,
    # which is \w, so this form only refuses a digit before the year (the 5-wide lookbehind
    # spans the year's 4 digits).
    + r")|(?P<cjk>(?P<cjk_y>[0-9]{4})(?<![0-9]....)\s{0,2}年\s{0,2}(?P<cjk_m>[0-9]{1,2})"
    r"\s{0,2}月\s{0,2}(?P<cjk_d>[0-9]{1,2})\s{0,2}日)"
)
_NAMED_MONTH_FORMS = frozenset({"mdy", "dmy"})
# Every form contains its year as four digits within _MAX_EXPR of where it starts, so the
# search can start shortly before the first run of four digits (and is skipped without one).
_FOUR_DIGITS = re.compile("[0-9][0-9][0-9][0-9]")


@dataclass(frozen=True)
class Dateline:
    date: datetime.date
    offset: int  # character offset in the text where the date expression starts


class DatelineError(ValueError):
    """A date is written but impossible (e.g. 'February 30, 2020')."""

    offset: int

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset

    def __reduce__(self) -> tuple[type["DatelineError"], tuple[str, int]]:
        # The default pickles only args == (message,), which __init__ can't take back, so the
        # error couldn't cross a process boundary (e.g. a multiprocessing benchmark).
        return type(self), (self.args[0], self.offset)


def find_dateline(text: str) -> Dateline | None:
    """The date stated at the head of `text`, or None.

    The earliest date expression starting within the first 160 characters counts; an
    all-numeric day/month form there (11/09/2020) gives None. Raises DatelineError for a
    date that is written but impossible, or whose year is outside 1900..2200.
    """
    digits = _FOUR_DIGITS.search(text, 0, _WINDOW)
    if digits is None:
        return None
    # str.lower() keeps every character one character long except U+0130 (İ -> i + U+0307);
    # replacing it first keeps offsets in the lowered text equal to those in `text`.
    head = text[:_WINDOW].replace("\u0130", "i").lower()
    match = _DATE.search(head, max(0, digits.start() - _MAX_EXPR))
    if match is None or match.start() >= _HEAD:
        return None
    form = match.lastgroup
    if form == "ambiguous" or form is None:
        return None

    offset = match.start()
    # From the original text; whitespace normalised so NBSPs and line breaks read cleanly.
    written = " ".join(text[offset : match.end()].split())
    year = int(match[f"{form}_y"])
    day = int(match[f"{form}_d"])
    month_text = match[f"{form}_m"]
    month = _MONTHS[month_text] if form in _NAMED_MONTH_FORMS else int(month_text)

    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise DatelineError(
            f"implausible year '{written}': {year} is outside {_MIN_YEAR}..{_MAX_YEAR}", offset
        )
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        # Own wording rather than datetime's, whose messages differ across Python versions.
        reason = (
            "month must be in 1..12" if not 1 <= month <= 12 else "day is out of range for month"
        )
        raise DatelineError(f"impossible date '{written}': {reason}", offset) from None
    return Dateline(date, offset)
