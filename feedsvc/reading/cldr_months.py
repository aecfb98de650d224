"""Datelines in Russian and Arabic (issue 15): '11 сентября 2020 года', '11 сентября 2020 г.',
'11 سبتمبر 2020', '١١ سبتمبر ٢٠٢٠', '11 أيلول 2020'. Month names come from CLDR through
Babel (format and stand-alone, wide and abbreviated), for the language and every regional
variant CLDR has: Arabic is written with Egyptian ('سبتمبر'), Levantine ('أيلول'),
Maghrebi ('شتنبر', 'جوان') month names."""

from __future__ import annotations

import re
from functools import cache

from babel import localedata
from babel.dates import get_month_names

LANGUAGES = ("ru", "ar")
_WIDTHS = ("wide", "abbreviated")
_CONTEXTS = ("format", "stand-alone")
# A digit in any script Python's int() reads: ASCII, Arabic-Indic (U+0660..), Extended
# Arabic-Indic (U+06F0.., Persian and Urdu).
DIGIT = "[0-9\u0660-\u0669\u06f0-\u06f9]"
# Letters of the scripts these names are in: a reason to try this form at all.
SCRIPTS = re.compile("[\u0400-\u04ff\u0600-\u06ff]")
# How far after the start of a date its month name may start: a day of two digits, '.', and
# dateline.py's eight white-space characters.
MONTH_LEAD = 11


def _locales(language: str) -> list[str]:
    return [
        name
        for name in localedata.locale_identifiers()
        if name == language or name.startswith(language + "_")
    ]


@cache
def month_numbers() -> dict[str, int]:
    """Lower-cased month name (whitespace squashed to one space, no final '.') -> 1..12."""
    numbers: dict[str, int] = {}
    for language in LANGUAGES:
        for locale in _locales(language):
            for width in _WIDTHS:
                for context in _CONTEXTS:
                    for number, name in get_month_names(width, context, locale).items():
                        key = " ".join(name.lower().rstrip(".").split())
                        if numbers.setdefault(key, number) != number:
                            raise ValueError(f"month name {key!r} ({locale}) names two months")
    return numbers


def month_number(written: str) -> int:
    return month_numbers()[" ".join(written.split())]


@cache
def dateline_pattern(space: str, space0: str) -> re.Pattern[str]:
    """Day, month, year: the one order Russian and Arabic releases date themselves in.
    `space`/`space0`: dateline.py's bounded white space (one or more, none or more)."""
    # Longest first, so 'تشرين الثاني' is tried before a name it begins with.
    names = sorted(month_numbers(), key=len, reverse=True)
    month = "|".join(space.join(re.escape(word) for word in name.split()) for name in names)
    return re.compile(
        rf"(?<![\w./-])(?P<cldr>(?P<cldr_d>{DIGIT}{{1,2}})\.?{space}"
        rf"(?P<cldr_m>{month})(?!\w)\.?{space0}[,\u060c]?{space0}"
        rf"(?P<cldr_y>{DIGIT}{{4}})(?!{DIGIT}))"
    )
