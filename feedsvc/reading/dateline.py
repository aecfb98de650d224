"""Find the dateline: the date a press release states at the head of its first paragraph."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.reading import cldr_months

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

    A flat alternation of ~95 month names is tried name by name; the trie rejects a word that
    is not a month on its first letter or two.
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
# Whitespace runs are bounded so an expression has a bounded length (see _MAX_EXPR).
# \s covers NO-BREAK SPACE, NARROW NBSP and line breaks.
_MAX_SPACE = 8
_SP = rf"\s{{1,{_MAX_SPACE}}}"
_SP0 = rf"\s{{0,{_MAX_SPACE}}}"
_YEAR_SEP = rf"(?:,{_SP0}|{_SP})"
_NUMERIC_END = r"(?![0-9]|[./-][0-9])"

# The Latin-script forms in one alternation, so a single search finds the leftmost (earliest)
# expression. Each form is a named group (read back via lastgroup) with sub-groups <form>_y,
# _m, _d. It runs on lowercased text: IGNORECASE would double the month trie's cost.
_LATIN = re.compile(
    # Not inside a word or number. "." keeps "2.0 May 2020" from reading as day 0, "/" and "-"
    # keep "2020-09-11" from matching at "09".
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
    + ")"
)
# 2020年9月11日 (Chinese/Japanese releases). Searched apart, and only when 年 is present: as
# a branch of _LATIN it made every search half again as slow. The character before is usually
# a CJK one, which is \w, so this only refuses a digit before the year.
_CJK = re.compile(
    r"(?<![0-9])(?P<cjk>(?P<cjk_y>[0-9]{4})\s{0,2}年\s{0,2}(?P<cjk_m>[0-9]{1,2})\s{0,2}月"
    r"\s{0,2}(?P<cjk_d>[0-9]{1,2})\s{0,2}日)"
)
_NAMED_MONTH_FORMS = frozenset({"mdy", "dmy"})
_FORMS = ("mdy", "dmy", "ymd", "cjk", "cldr")
_PARTS = {form: (f"{form}_y", f"{form}_m", f"{form}_d") for form in _FORMS}

# Longest expression (day-first: "11th" + 8 spaces + "of" + 8 + 10-letter month + ".," + 8 +
# "del" + 8 + year = 57) plus lookahead room. An expression starting before _HEAD is complete
# within _WINDOW characters, and its year starts at most _MAX_EXPR after the expression does.
_MAX_EXPR = 64
_WINDOW = _HEAD + _MAX_EXPR
# Every form has a four-digit year, so text without one is done after a cheap scan, and the
# search for expressions starts only _MAX_EXPR before the first one.
# Issue 15: Arabic releases may write the year in Arabic-Indic digits (cldr_months.py).
_FOUR_DIGITS = re.compile(f"{cldr_months.DIGIT}{{4}}")


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
    year_digits = _FOUR_DIGITS.search(text, 0, _WINDOW)
    if year_digits is None:
        return None
    # str.lower() keeps every character one character long except U+0130 (İ -> i + U+0307);
    # replacing it first keeps offsets in the lowered text equal to those in `text`.
    head = text[:_WINDOW].replace("\u0130", "i").lower()
    start = max(0, year_digits.start() - _MAX_EXPR)
    match = _LATIN.search(head, start)
    cjk = _CJK.search(head, start) if "年" in head else None
    if cjk and (match is None or cjk.start() < match.start()):
        match = cjk
    # Russian and Arabic month names (issue 15), searched only when their letters are where
    # such a date would have to start its month to come first (a few characters to scan
    # after an English dateline, not the whole head).
    before = (match.start() if match else _HEAD) + cldr_months.MONTH_LEAD
    if cldr_months.SCRIPTS.search(head, start, before):
        cldr = cldr_months.dateline_pattern(_SP, _SP0).search(head, start)
        if cldr and (match is None or cldr.start() < match.start()):
            match = cldr
    if match is None or match.start() >= _HEAD:
        return None
    form = match.lastgroup
    if form == "ambiguous" or form is None:
        return None

    year_text, month_text, day_text = match.group(*_PARTS[form])
    year = int(year_text)
    if form == "cldr":
        month = cldr_months.month_number(month_text)
    else:
        month = _MONTHS[month_text] if form in _NAMED_MONTH_FORMS else int(month_text)
    day = int(day_text)
    offset = match.start()
    if _MIN_YEAR <= year <= _MAX_YEAR:
        try:
            return Dateline(datetime.date(year, month, day), offset)
        except ValueError:
            # Own wording rather than datetime's, whose messages differ across Python versions.
            problem = "impossible date"
            valid_month = 1 <= month <= 12
            reason = "day is out of range for month" if valid_month else "month must be in 1..12"
    else:
        problem = "implausible year"
        reason = f"{year} is outside {_MIN_YEAR}..{_MAX_YEAR}"
    # Quoted from the original text, whitespace normalised so NBSPs and line breaks read cleanly.
    written = " ".join(text[offset : match.end()].split())
    raise DatelineError(f"{problem} '{written}': {reason}", offset)
