"""The languages a site publishes in (issue 15): the site's own (`site.language`, today's
URLs) and each `[languages.<tag>]` table (under `<tag>/`).

A `Language` is what publishing needs of one: its tag, its URL prefix, its writing
direction, its name in itself (CLDR through Babel), and `site`: the site settings as that
language shows them (title, description, `language`, and `base_url` ending in its prefix),
so that a Site or Pages made with them links within the language without knowing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from babel import Locale, UnknownLocaleError

from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.config.languages import canonical_tag

# Scripts written right to left (CLDR character order "right-to-left"); asked of Babel,
# with this list for tags Babel does not know.
_RTL = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "syr", "ug", "ur", "yi"}
)


@dataclass(frozen=True)
class Language:
    tag: str  # canonical BCP 47 tag: 'en', 'zh', 'zh-Hant', 'pt-BR'
    default: bool  # the site's own language: today's URLs, no prefix
    root: SiteSettings = field(repr=False)  # the site as configured
    title: str = ""
    description: str = ""
    sections: Mapping[str, str] = field(default_factory=dict, repr=False)
    boilerplate: str = field(default="", repr=False)  # "" : the site's (issue 17)

    @property
    def prefix(self) -> str:
        """The folder of this language's documents below the site: '' or 'zh/'."""
        return "" if self.default else self.tag + "/"

    @property
    def scope(self) -> str | None:
        """How the store and a change name this language: None for the default
        (model.scoped)."""
        return None if self.default else self.tag

    @cached_property
    def site(self) -> SiteSettings:
        """The site settings as seen in this language."""
        root = self.root
        return dataclasses.replace(
            root,
            title=self.title or root.title,
            description=self.description or root.description,
            boilerplate=self.boilerplate or root.boilerplate,
            language=self.tag,
            base_url=root.base_url + self.prefix,
        )

    @cached_property
    def locale(self) -> Locale | None:
        try:
            return Locale.parse(self.tag, sep="-")
        except (UnknownLocaleError, ValueError):
            return None

    @property
    def direction(self) -> str:
        """'rtl' or 'ltr', for <html dir>."""
        locale = self.locale
        if locale is not None:
            return "rtl" if locale.character_order == "right-to-left" else "ltr"
        return "rtl" if self.tag.split("-")[0].lower() in _RTL else "ltr"

    @property
    def name(self) -> str:
        """The language's name in itself ('中文', 'العربية', 'English'): the switcher's."""
        locale = self.locale
        name = locale.get_display_name(locale) if locale is not None else None
        return name or self.tag

    def section_name(self, name: str) -> str:
        """A section as this language names it: `[languages.<tag>.sections]`, else as
        written."""
        return self.sections.get(name, name)


class Languages:
    """Every language of the site: the default first, then the others by tag."""

    def __init__(
        self, site: SiteSettings, configured: Mapping[str, LanguageSettings] | None = None
    ) -> None:
        configured = dict(configured or {})
        own = canonical_tag(site.language)
        mine = configured.pop(own, None) or LanguageSettings(own)
        self.default = Language(
            own, True, site, sections=dict(mine.sections), boilerplate=mine.boilerplate
        )
        self.others = tuple(
            Language(tag, False, site, c.title, c.description, dict(c.sections), c.boilerplate)
            for tag, c in sorted(configured.items())
        )
        self._by_tag = {lang.tag: lang for lang in self}
        self._by_lower = {lang.tag.lower(): lang for lang in self}

    def __iter__(self) -> Iterator[Language]:
        yield self.default
        yield from self.others

    def __len__(self) -> int:
        return 1 + len(self.others)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._by_tag)

    @property
    def prefixed(self) -> frozenset[str]:
        """The URL segments that name a language (layout.parse's `languages`)."""
        return frozenset(lang.tag for lang in self.others)

    def get(self, tag: str | None) -> Language | None:
        """The language of a tag (any case), or of a scope (None: the default)."""
        if tag is None:
            return self.default
        return self._by_lower.get(tag.lower())

    def of_scope(self, scope: str | None) -> Language:
        found = self.get(scope)
        if found is None:
            raise KeyError(f"no language {scope!r} is configured")
        return found


@dataclass(frozen=True)
class Alternate:
    """A page in another language of the site (issue 15): a `<link rel="alternate"
    hreflang>` and an entry of the language switcher. `translated` is False when the
    document has no version in that language and the link leads to that language's home
    page (the switcher's fallback; no hreflang is written for it)."""

    language: Language
    url: str  # absolute (hreflang, sitemaps, Atom)
    href: str  # from the site's base path (links in pages)
    translated: bool = True
    current: bool = False  # the page being shown
