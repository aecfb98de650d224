"""`[languages.<tag>]` tables of config.toml (issue 15): what each language a release may
be written in calls the site. The site's own language (`site.language`) needs no table;
a table for it overrides nothing but its section names.

    [languages.zh]
    title = "外交部新闻发布"
    description = "新闻稿"
    boilerplate = "外交部新闻司负责……"   # issue 17: "About" the office in this language
    [languages.zh.sections]        # a section's name (as releases write it) in this language
    "News & Events" = "新闻与活动"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feedsvc.errors import ConfigError

# BCP 47 as a URL segment can carry it: a language, then script/region/variant subtags.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_KEYS = ("title", "description", "boilerplate", "sections")


@dataclass(frozen=True)
class LanguageSettings:
    tag: str
    title: str = ""  # "" : site.title
    description: str = ""  # "" : site.description
    sections: Mapping[str, str] = field(default_factory=dict)
    boilerplate: str = ""  # "" : site.boilerplate (issue 17)


def canonical_tag(tag: str) -> str:
    """'ZH-hant-tw' -> 'zh-Hant-TW' (RFC 5646 section 2.1.1: case carries no meaning, but
    one spelling keeps one URL)."""
    first, *rest = tag.split("-")
    out = [first.lower()]
    for sub in rest:
        if len(sub) == 4:
            out.append(sub.title())
        elif len(sub) == 2:
            out.append(sub.upper())
        else:
            out.append(sub.lower())
    return "-".join(out)


def languages_from_dict(raw: Any, source: str) -> dict[str, LanguageSettings]:
    """The `[languages]` table: one table per language tag."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [languages] must be a table of [languages.<tag>] tables")
    out: dict[str, LanguageSettings] = {}
    for written, table in raw.items():
        where = f"{source}: [languages.{written}]"
        if not LANGUAGE_TAG.match(written) or len(written) > 35:
            raise ConfigError(f"{where}: {written!r} is not a language tag such as 'zh' or 'pt-BR'")
        tag = canonical_tag(written)
        if tag in out:
            raise ConfigError(f"{where}: the language {tag} is configured twice")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key languages.{written}.{unknown[0]}")
        for key in ("title", "description", "boilerplate"):
            if not isinstance(table.get(key, ""), str):
                raise ConfigError(f"{where}: languages.{written}.{key} must be a string")
        sections = table.get("sections", {})
        if not isinstance(sections, dict) or not all(
            isinstance(v, str) and v.strip() for v in sections.values()
        ):
            raise ConfigError(
                f"{where}: languages.{written}.sections must be a table of section names"
                " to their names in this language"
            )
        if len(table.get("boilerplate", "")) > 5000:
            raise ConfigError(
                f"{where}: languages.{written}.boilerplate must be at most 5,000 characters"
            )
        out[tag] = LanguageSettings(
            tag,
            table.get("title", ""),
            table.get("description", ""),
            dict(sections),
            table.get("boilerplate", ""),
        )
    return out
