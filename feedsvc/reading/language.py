"""A release's language (issue 15): front matter `language`, else a language suffix in its
file name as Hugo names translations (`budget.zh.txt`, `bundle/index.ar.md`), else the
site's own. Only configured languages are accepted, and the stored tag is the configured,
canonical one ('ZH' in a file name is 'zh')."""

from __future__ import annotations

import posixpath

from feedsvc.config import Settings
from feedsvc.config.languages import LANGUAGE_TAG, canonical_tag
from feedsvc.errors import ReleaseError
from feedsvc.languages import Language, Languages
from feedsvc.reading.front_matter import FrontMatter
from feedsvc.reading.listing import is_bundle_index

LANGUAGE_MAX_CHARS = 35  # RFC 5646 4.4.1: the length every implementation must support

# One Languages per Settings: it is asked for every file of a scan (100,000 of them).
_last: tuple[Settings, Languages] | None = None


def site_languages(settings: Settings) -> Languages:
    global _last
    last = _last
    if last is not None and last[0] is settings:
        return last[1]
    languages = Languages(settings.site, settings.languages)
    _last = (settings, languages)
    return languages


def named(rel: str, languages: Languages) -> tuple[str, Language | None]:
    """The name a release's id comes from, and the language its file name gives, if any:
    'budget.zh.txt' -> ('budget', zh); 'report.v2.txt' -> ('report.v2', None) (not a
    configured language: part of the name, as before issue 15); 'b/index.zh.md' -> ('b',
    zh). A bundle's index has no name of its own to keep a suffix in, so an index named
    for a language the site does not have is an error."""
    if is_bundle_index(rel):
        folder, name = posixpath.split(rel)
        parts = name.split(".")  # index[.tag].ext
        stem = posixpath.basename(folder)
        if len(parts) == 2:
            return stem, None
        found = languages.get(parts[1])
        if found is None:
            raise _not_configured(rel, 1, parts[1], "the file name says")
        return stem, found
    base = posixpath.splitext(posixpath.basename(rel))[0]
    head, dot, suffix = base.rpartition(".")
    if dot and head and _is_tag(suffix):
        found = languages.get(suffix)
        if found is not None:
            return head, found
    return base, None


def release_language(fm: FrontMatter, from_name: Language | None, languages: Languages) -> Language:
    written = fm.text("language", None)
    if written is None:
        return from_name or languages.default
    if not _is_tag(written):
        raise fm.fail("language", f"front-matter 'language' {written!r} is not a language tag")
    found = languages.get(written)
    if found is None:
        line = fm.fail("language", "").line
        raise _not_configured(fm.path, line, written, "front-matter 'language' says")
    if from_name is not None and from_name is not found:
        raise fm.fail(
            "language",
            f"front-matter 'language' {written!r} contradicts the file name, which says "
            f"{from_name.tag!r}: give one of them",
        )
    return found


def _is_tag(text: str) -> bool:
    return len(text) <= LANGUAGE_MAX_CHARS and LANGUAGE_TAG.fullmatch(text) is not None


def _not_configured(path: str, line: int, written: str, where: str) -> ReleaseError:
    tag = canonical_tag(written)
    return ReleaseError(
        path,
        line,
        f"{where} {written!r}, a language this site is not configured for: "
        f"add [languages.{tag}] to config.toml (or correct the tag)",
    )
