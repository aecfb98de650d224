"""What `feedsvc check` finds across releases that reading one file cannot (issue 15):
two files claiming one release in one language, two section names that make one URL,
and a text whose script plainly contradicts the language it declares."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from babel import Locale
from babel.core import get_global

from feedsvc.model import ReadProblem, Release, slugify, unscoped

# Letters of these ISO 15924 scripts (the script CLDR's likely subtags give a language) and
# the first word of their Unicode character names. A language of another script is not
# judged: nothing is said rather than something wrong.
_SCRIPT_LETTERS = {
    "Latn": frozenset({"LATIN"}),
    "Cyrl": frozenset({"CYRILLIC"}),
    "Arab": frozenset({"ARABIC"}),
    "Hans": frozenset({"CJK"}),
    "Hant": frozenset({"CJK"}),
    "Jpan": frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    "Kore": frozenset({"HANGUL", "CJK"}),
    "Grek": frozenset({"GREEK"}),
    "Hebr": frozenset({"HEBREW"}),
    "Deva": frozenset({"DEVANAGARI"}),
    "Thai": frozenset({"THAI"}),
    "Armn": frozenset({"ARMENIAN"}),
    "Geor": frozenset({"GEORGIAN"}),
}
_SHOWN = {"CJK": "CJK ideographs"}
_SCRIPT_SHOWN = {"Hans": "Han", "Hant": "Han", "Jpan": "Japanese", "Kore": "Korean"}
_MIN_LETTERS = 20  # fewer say too little to contradict anything
_TAG = re.compile(r"<[^>]*>")


def duplicate_keys(releases: Iterable[Release]) -> list[ReadProblem]:
    """Two files that are one release in one language (the store refuses the second)."""
    problems = []
    owners: dict[str, str] = {}
    for release in releases:
        other = owners.setdefault(release.key, release.source)
        if other != release.source:
            release_id, scope = unscoped(release.key)
            which = f"id {release_id!r}" + ("" if scope is None else f" in language {scope}")
            problems.append(ReadProblem(release.source, 1, f"{which} is already used by {other}"))
    return problems


def slug_clashes(releases: Iterable[Release]) -> list[ReadProblem]:
    """Two section names of one language with one slug would share one section page and
    feed (issue 15): an error naming both files and both names."""
    first: dict[tuple[str, str], tuple[str, str]] = {}  # (language, slug) -> (name, file)
    problems = []
    for release in sorted(releases, key=lambda r: r.source):
        slug = slugify(release.section)
        name, source = first.setdefault((release.language, slug), (release.section, release.source))
        if name != release.section:
            problems.append(
                ReadProblem(
                    release.source,
                    1,
                    f"section {release.section!r} has the URL sections/{slug}/, as section "
                    f"{name!r} of {source} has (language {release.language}): "
                    "rename one of them",
                )
            )
    return problems


def script_warnings(releases: Iterable[Release]) -> list[ReadProblem]:
    """A release most of whose letters are of a script its language is not written in
    (Arabic declared 'en', Latin declared 'zh'). Proportions of the letters of title and
    text, so that a quoted English name in a Chinese release says nothing."""
    problems = []
    for release in releases:
        expected = _script_of(release.language)
        if expected is None:
            continue
        counts = _letters_by_script(f"{release.title}\n{_text_of(release.body_html)}")
        total = sum(counts.values())
        foreign = {s: n for s, n in counts.items() if s not in _SCRIPT_LETTERS[expected]}
        if total < _MIN_LETTERS or sum(foreign.values()) * 2 <= total:
            continue
        script = max(foreign, key=lambda s: foreign[s])
        share = round(100 * sum(foreign.values()) / total)
        problems.append(
            ReadProblem(
                release.source,
                1,
                f"warning: declared language {release.language!r}, but {share}% of the letters "
                f"of its title and text are not {_script_name(expected)} (most are "
                f"{_SHOWN.get(script, script.title())}): is its language right?",
            )
        )
    return problems


@cache
def _script_of(tag: str) -> str | None:
    """The script a language is written in: its tag's script subtag, else CLDR's likely
    subtags ('zh-TW' -> Hant, 'ru' -> Cyrl); None when not one of _SCRIPT_LETTERS."""
    parts = tag.split("-")
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    if script is None:
        likely = get_global("likely_subtags")
        language = parts[0].lower()
        region = next((p.upper() for p in parts[1:] if len(p) == 2), None)
        found = (region and likely.get(f"{language}_{region}")) or likely.get(language)
        script = found.split("_")[1] if found and found.count("_") >= 1 else None
    return script if script in _SCRIPT_LETTERS else None


def _script_name(code: str) -> str:
    return _SCRIPT_SHOWN.get(code) or Locale("en").scripts.get(code, code)


def _text_of(body_html: str) -> str:
    return html.unescape(_TAG.sub(" ", body_html))


def _letters_by_script(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    # NFKC: fullwidth Latin and Arabic presentation forms count as the letters they are.
    for char in unicodedata.normalize("NFKC", text):
        if char.isalpha():
            word = unicodedata.name(char, "?").split(" ", 1)[0]
            counts[word] = counts.get(word, 0) + 1
    return counts
