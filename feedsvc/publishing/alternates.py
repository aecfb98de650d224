"""A document in the site's other languages (issue 15): which languages a release is
visible in, and the links a page (hreflang, the language switcher), an Atom entry and the
sitemap give to its versions."""

from __future__ import annotations

from collections.abc import Sequence

from feedsvc.config import SiteSettings
from feedsvc.languages import Alternate, Language, Languages
from feedsvc.store.release_reads import ReleaseReads


class Translations:
    def __init__(
        self, store: ReleaseReads, languages: Languages, language: Language, root: SiteSettings
    ) -> None:
        self.store = store
        self.languages = languages
        self.language = language
        self.root = root
        self.many = len(languages) > 1
        self._known: dict[str, set[str]] | None = None

    def preload(self) -> None:
        """Read which releases have translations once (a whole build asks for each)."""
        if self.many:
            self._known = self.store.translations()

    def scopes(self, ids: Sequence[str]) -> dict[str, set[str]]:
        """release id -> the scopes ('' the site's own) it is visible in, for those of `ids`
        visible in more than one language."""
        if not self.many or not ids:
            return {}
        if self._known is not None:
            return {rid: self._known[rid] for rid in ids if rid in self._known}
        return self.store.translations(ids)

    def links(self, rel: str, scopes: set[str] | None = None) -> tuple[Alternate, ...]:
        """This document in every language of the site (none for a site of one language):
        `rel` (its path within a language) in the languages `scopes` names (None: all),
        else that language's home page."""
        if not self.many:
            return ()
        root, out = self.root, []
        for language in self.languages:
            current = language is self.language
            translated = current or scopes is None or (language.scope or "") in scopes
            path = language.prefix + (rel if translated else "")
            out.append(
                Alternate(
                    language, root.base_url + path, root.base_path + path, translated, current
                )
            )
        return tuple(out)

    def section_scopes(self, slug: str) -> set[str] | None:
        """The languages that have a section of this slug."""
        if not self.many:
            return None
        return {
            language.scope or ""
            for language in self.languages
            if self.store.in_language(language.scope).sections([slug])
        }
