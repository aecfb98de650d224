"""Issue 17 item 3: every feed in one place. feeds.opml (OPML 2.0, opml.org/spec2.opml)
lists every subscription feed of the language with absolute URLs, grouped, dated from the
data (the same bytes from two builds); feeds/ shows the same with each feed's three
formats and autodiscovery. On either database (FEEDSVC_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import html

from feedsvc.build import build_site
from feedsvc.i18n import template_callables
from feedsvc.publishing.opml import OPML
from tests.conftest import BASE_URL, Newsroom, make_newsroom
from tests.publishing.test_pages_unmarked import Pseudo, untranslated
from tests.publishing.test_tags import EVIL, release


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path, languages={"zh": {"title": "外交部新闻发布"}})
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", EVIL]))
    room.write("b.md", release("Talks", "2026-11-21T10:00:00+08:00", ["Climate"], "Speeches"))
    room.write("d.zh.md", release("王毅会见", "2026-11-22T10:00:00+08:00", ["外交"], "外交部新闻"))
    assert room.ingest().problems == []
    yield room
    room.store.close()


def outlines(body: bytes) -> dict[str, list[dict[str, str]]]:
    """folder text -> its feed outlines' attributes."""
    root = ET.fromstring(body)
    assert root.tag == "opml" and root.get("version") == "2.0"
    return {
        folder.get("text"): [dict(o.attrib) for o in folder.findall("outline")]
        for folder in root.find("body").findall("outline")
    }


def test_the_opml_lists_every_feed_with_absolute_urls(room: Newsroom) -> None:
    doc = room.documents()["feeds.opml"]
    assert doc.media_type == OPML == "text/x-opml; charset=utf-8"
    found = outlines(doc.body)
    urls = {o["xmlUrl"]: o for group in found.values() for o in group}
    assert set(urls) == {
        BASE_URL + "feed.xml",
        BASE_URL + "sections/press-releases/feed.xml",
        BASE_URL + "sections/speeches/feed.xml",
        BASE_URL + "tags/trade/feed.xml",
        BASE_URL + "tags/climate/feed.xml",
        BASE_URL + "tags/script-alert-1-script/feed.xml",
    }
    assert list(found) == ["All releases", "Sections", "Tags"]
    for xml_url, o in urls.items():
        assert o["type"] == "rss" and o["text"] == o["title"] and o["language"] == "en"
        assert o["htmlUrl"] == xml_url.removesuffix("feed.xml")
        assert (
            o["htmlUrl"] in room.documents()
            or o["htmlUrl"].removeprefix(BASE_URL) in room.documents()
        )
    assert urls[BASE_URL + "tags/script-alert-1-script/feed.xml"]["text"].endswith(EVIL)


def test_the_opml_head_is_dated_from_the_data(room: Newsroom) -> None:
    head = ET.fromstring(room.documents()["feeds.opml"].body).find("head")
    assert head.findtext("title") == "Ministry Press Office: Feeds"
    assert head.findtext("ownerName")
    modified = parsedate_to_datetime(head.findtext("dateModified"))
    assert modified == dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # the newest release
    assert parsedate_to_datetime(head.findtext("dateCreated")) <= modified


def test_another_language_has_its_own_list_in_uris(room: Newsroom) -> None:
    found = outlines(room.documents()["zh/feeds.opml"].body)
    urls = [o["xmlUrl"] for group in found.values() for o in group]
    assert urls == [
        BASE_URL + "zh/feed.xml",
        BASE_URL + "zh/sections/%E5%A4%96%E4%BA%A4%E9%83%A8%E6%96%B0%E9%97%BB/feed.xml",
        BASE_URL + "zh/tags/%E5%A4%96%E4%BA%A4/feed.xml",
    ]
    assert all(url.isascii() for url in urls)


def test_two_builds_give_the_same_bytes(room: Newsroom, tmp_path: Path) -> None:
    build_site(room.settings, room.clock, tmp_path / "one", parts=1)
    room.clock.advance(days=3)  # the clock is no part of it
    build_site(room.settings, room.clock, tmp_path / "two", parts=2)
    for name in ("feeds.opml", "zh/feeds.opml", "feeds/index.html", "tags/index.html"):
        one, two = (tmp_path / d / name for d in ("one", "two"))
        assert one.read_bytes() == two.read_bytes(), name
    assert (tmp_path / "one" / "tags/trade/atom.xml").is_file()


def test_the_feeds_page_shows_each_feed_in_three_formats(room: Newsroom) -> None:
    page = html.fromstring(room.documents()["feeds/"].body)
    assert [h.text_content() for h in page.xpath("//main//h2")] == [
        "All releases",
        "Sections",
        "Tags",
    ]
    items = page.xpath("//ol[contains(@class, 'feeds')]/li")
    titles = [li.findtext("h3") or li.find("h3").text_content() for li in items]
    assert "Ministry Press Office: " + EVIL in titles
    for li in items:
        formats = li.xpath("p[@class='meta']/a")
        assert [a.text for a in formats] == ["RSS", "Atom", "JSON Feed"]
        assert all(a.get("href").startswith(BASE_URL) for a in formats)
        assert li.findtext("p[@class='summary']")
    archive = [li for li in items if "archive/1/" in li.xpath("p/a/@href")[0]]
    assert len(archive) == 1 and archive[0].find("h3/a") is None  # not a page to visit
    discovered = page.xpath("//link[@rel='alternate' and @type='application/atom+xml']/@href")
    assert BASE_URL + "atom.xml" in discovered
    assert BASE_URL + "sections/speeches/atom.xml" in discovered
    assert BASE_URL + "tags/climate/atom.xml" not in discovered  # thousands: in the OPML
    assert BASE_URL + "archive/1/atom.xml" not in discovered
    assert page.xpath("//link[@type='text/x-opml']/@href") == [BASE_URL + "feeds.opml"]
    assert page.xpath("//main//a[@type='text/x-opml']/@href") == ["/feeds.opml"]


def test_the_new_pages_say_only_what_the_catalogs_give(tmp_path: Path) -> None:
    """As test_pages_unmarked: the data in Greek, the catalog a pseudo-language; a Latin
    word left on the tags, tag or feeds page is a string nobody marked."""
    room = make_newsroom(tmp_path / "el", site={"title": "Γραφείο", "description": "Ανακοινώσεις"})
    try:
        text = release("Είδηση", "2026-11-20T10:00:00+08:00", ["Ετικέτα"], "Ειδήσεις")
        room.write("a.md", text.replace("Είδηση was said.", "Κείμενο."))
        assert room.ingest().problems == []
        site = room.site.default
        pages = site.pages
        pages.base = {**pages.base, **template_callables(Pseudo()), "date_locale": "el"}
        pages.translations = Pseudo()
        found = {
            "tags/": site.tags.index().body,
            "tag": site.tags.page("ετικέτα", "Ετικέτα").body,
            "feeds/": site.directory.page().body,
        }
        left = {name: untranslated(body) for name, body in found.items()}
        assert {name: words for name, words in left.items() if words} == {}
        assert "ж" in ET.fromstring(site.directory.opml().body).findtext("head/title")
    finally:
        room.store.close()
