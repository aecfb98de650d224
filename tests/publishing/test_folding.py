"""The fixed strings compiled into each language's release and index pages (folding.py,
issue 15) give exactly the bytes the runtime gettext gives: every catalog, both pages,
with and without the share form, with alternates."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from jinja2 import Template

from feedsvc.config import LanguageSettings
from feedsvc.languages import Languages
from feedsvc.model import ListedRelease
from feedsvc.publishing.pages import Pages
from tests.conftest import Newsroom, make_newsroom
from tests.publishing.test_pages_languages import stored

TAGS = ("en", "zh", "fr", "es", "ru", "ar")


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    yield room
    room.store.close()


def both(pages: Pages) -> tuple[bytes, bytes]:
    """(release page, index page) as `pages` renders them."""
    s = stored(None if pages.language.default else pages.language.tag)
    links = Languages(pages.root, {t: LanguageSettings(t) for t in TAGS if t != "en"})
    alternates = pages_alternates(links, pages.language.tag)
    index = pages.index([ListedRelease.of(s)], page=2, newer="/", older=None, alternates=alternates)
    return pages.release(s, alternates=alternates), index


def pages_alternates(languages: Languages, current: str) -> tuple:
    from feedsvc.languages import Alternate

    return tuple(
        Alternate(lang, "https://x/" + lang.prefix, "/" + lang.prefix, True, lang.tag == current)
        for lang in languages
    )


@pytest.mark.parametrize("share", [True, False])
@pytest.mark.parametrize("tag", TAGS)
def test_folded_pages_are_the_runtime_pages_byte_for_byte(
    room: Newsroom, tag: str, share: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = room.settings
    rules = settings.share if share else type(settings.share)(enabled=False)
    languages = Languages(settings.site, {t: LanguageSettings(t) for t in TAGS if t != "en"})
    pages = Pages(settings.site, rules).in_language(languages.get(tag))  # type: ignore[arg-type]
    folded = both(pages)
    runtime: tuple[Template, Template] = (
        pages.env.get_template("release.html"),
        pages.env.get_template("index.html"),
    )
    monkeypatch.setattr(Pages, "_templates", lambda self: runtime)
    assert both(pages) == folded
    assert b"gettext" not in folded[0]


def test_the_folded_templates_say_the_fixed_strings_without_calls(room: Newsroom) -> None:
    pages = Pages(room.settings.site, room.settings.share)
    zh = pages.in_language(Languages(room.settings.site, {"zh": LanguageSettings("zh")}).get("zh"))  # type: ignore[arg-type]
    source = zh.env.loader.get_source(zh.env, "_share_form.html")[0]  # type: ignore[union-attr]
    release, _ = zh._templates()
    compiled = release.environment.compile(source, "_share_form.html", raw=True)
    assert "发送" in compiled and "'Send'" not in compiled  # a constant, not a gettext call


class Catalog(gettext.NullTranslations):
    """A catalog that is data an abuser may have touched: markup, quotes, percent signs."""

    SAID: ClassVar[dict[str, str]] = {
        "Send": "<b>Envoyer</b> & 'co'",
        "100% sure": "sûr à 100 %%",  # a catalog writes a percent sign as '%%'
        "Office's": "Office's",  # the template's own text: kept as written
    }

    def gettext(self, message: str) -> str:
        return self.SAID.get(message, message)


@pytest.mark.parametrize("name", ["page.html", "mail.txt"])  # autoescaped, and not
def test_folding_says_and_escapes_exactly_as_the_runtime_does(name: str) -> None:
    from jinja2 import DictLoader, Environment, select_autoescape

    from feedsvc.i18n import template_callables
    from feedsvc.publishing.folding import folded_environment

    source = (
        '{{ _("Send") }}|{{ gettext("Office\'s") }}|{% trans %}100% sure{% endtrans %}|'
        '{% trans n=2 %}{{ n }} left{% endtrans %}|{{ _("Nothing to say") }}'
    )
    shared = Environment(
        loader=DictLoader({name: source}),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    shared.newstyle_gettext = True  # type: ignore[attr-defined]
    catalog = Catalog()
    runtime = shared.get_template(name).render(**template_callables(catalog))
    folded_env = folded_environment(shared, catalog)
    folded = folded_env.get_template(name).render(**template_callables(catalog))
    assert folded == runtime
    compiled = folded_env.compile(source, name, raw=True)
    assert "'Send'" not in compiled and "100%% sure" not in compiled  # folded, not called
    if name.endswith(".html"):
        assert "&lt;b&gt;Envoyer&lt;/b&gt; &amp; &#39;co&#39;" in folded


def test_layout_paths_of_literals_are_folded_and_the_rest_stay_calls(room: Newsroom) -> None:
    """Issue 18: `{{ layout.asset("style.css") }}` and `{{ layout.feeds_page() }}` become
    template text; `{{ layout.release(r.id) }}` (a value) stays a call."""
    pages = Pages(room.settings.site, room.settings.share)
    release, _ = pages._templates()
    env = release.environment
    base = env.loader.get_source(env, "base.html")[0]  # type: ignore[union-attr]
    compiled = env.compile(base, "base.html", raw=True)
    assert "'asset'" not in compiled and "'feeds_page'" not in compiled
    assert "assets/style.css" in compiled and "feeds/" in compiled
    page = env.loader.get_source(env, "release.html")[0]  # type: ignore[union-attr]
    assert "'section'" in env.compile(page, "release.html", raw=True)  # r.section_slug
