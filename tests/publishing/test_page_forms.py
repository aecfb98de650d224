"""The share and subscribe forms of release and index pages are made once a language and
section and reused (issue 18, pages._Forms): every page must still carry the form its own
macro call would give, with its release's id and its section, never another page's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from feedsvc.config import AlertSettings
from feedsvc.model import scoped
from feedsvc.publishing.pages import Pages
from tests.conftest import make_newsroom
from tests.publishing.test_pages_languages import stored

SHARE = '{% from "_share_form.html" import share_form with context %}{{ share_form(rid, rules) }}'
SUBSCRIBE = (
    '{% from "_subscribe_form.html" import subscribe_form with context %}'
    "{{ subscribe_form(alert_rules, this_section=section, compact=True) }}"
)


def said(pages: Pages, source: str, **values: object) -> bytes:
    """What the macro itself says in `pages`' language, as the page's template would."""
    template = pages._templates()[0].environment.from_string(source)
    return template.render(**pages.base, **values).encode("utf-8")


def test_each_page_has_its_own_release_and_section_in_its_forms(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path)
    try:
        settings = room.settings
        pages = Pages(settings.site, settings.share, alerts=AlertSettings(enabled=True))
    finally:
        room.store.close()
    first = stored(None)
    other = dataclasses.replace(
        first.release, id="li-qiang", key=scoped("li-qiang", None), section="Speeches"
    )
    second = dataclasses.replace(first, release=other)
    for one, two in ((first, second), (second, first)):
        page = pages.release(one)
        rid, slug = one.release.id, one.release.section_slug
        assert said(pages, SHARE, rid=rid, rules=settings.share) in page
        section = (slug, one.release.section)
        assert said(pages, SUBSCRIBE, section=section) in page
        assert two.release.id.encode() not in page
    index = pages.index([], page=1, newer=None, older=None)
    assert said(pages, SUBSCRIBE, section=None) in index
