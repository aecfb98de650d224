"""Pages in the site's languages (issue 15): `<html lang dir>`, strings from the catalogs,
CLDR dates, section names, links within the language, hreflang alternates and the
language switcher; one compiled environment for every language."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html

from feedsvc.config import LanguageSettings
from feedsvc.languages import Alternate, Languages
from feedsvc.model import Release, StoredRelease, scoped
from feedsvc.publishing.pages import Pages
from tests.conftest import BASE_URL, Newsroom, make_newsroom

CONFIGURED = {
    "zh": LanguageSettings("zh", "外交部新闻发布", "新闻稿", {"Press Releases": "新闻稿"}),
    "ar": LanguageSettings("ar", "المكتب الصحفي", "بيانات", {"Press Releases": "بيانات صحفية"}),
    "ru": LanguageSettings("ru", "Пресс-служба"),
}
DAY = dt.datetime(2020, 9, 11, 2, 0, tzinfo=dt.UTC)  # Asia/Shanghai: September 11 too


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    yield room
    room.store.close()


@pytest.fixture
def languages(room: Newsroom) -> Languages:
    return Languages(room.settings.site, CONFIGURED)


@pytest.fixture
def pages(room: Newsroom) -> Pages:
    return Pages(room.settings.site, room.settings.share)


def stored(tag: str | None, title: str = "Wang Yi meets Lavrov") -> StoredRelease:
    release = Release(
        id="wang-yi",
        title=title,
        section="Press Releases",
        published=DAY,
        body_html="<p>Text.</p>",
        summary="Summary.",
        language=tag or "en",
        source="wang-yi.txt",
        content_hash="x",
        key=scoped("wang-yi", tag),
    )
    return StoredRelease(release, 1, DAY.date(), DAY + dt.timedelta(days=3))


def alternates(languages: Languages, current: str, translated: set[str]) -> list[Alternate]:
    out = []
    for lang in languages:
        rel = lang.prefix + ("releases/wang-yi/" if lang.tag in translated else "")
        out.append(
            Alternate(lang, BASE_URL + rel, "/" + rel, lang.tag in translated, lang.tag == current)
        )
    return out


def test_a_chinese_page_speaks_chinese(pages: Pages, languages: Languages) -> None:
    zh = pages.in_language(languages.get("zh"))
    doc = html.fromstring(zh.release(stored("zh", "王毅会见拉夫罗夫")))
    assert doc.get("lang") == "zh" and doc.get("dir") is None
    assert doc.find(".//time").text == "2020年9月11日"
    assert "更新于2020年9月14日" in doc.find(".//p[@class='meta']").text_content()
    crumbs = doc.findall(".//nav[@class='breadcrumb']/a")
    assert [a.text for a in crumbs] == ["首页", "新闻稿"]
    # Links within the language; the assets and the share API once, at the top.
    assert crumbs[0].get("href") == "/zh/"
    assert crumbs[1].get("href") == "/zh/sections/press-releases/"
    assert doc.find(".//link[@rel='stylesheet']").get("href") == "/assets/style.css"
    search, form = doc.findall(".//form")[:2]  # issue 17: the search box comes first
    assert search.get("action") == "/zh/search"
    assert form.get("action") == "/zh/releases/wang-yi/share"
    assert form.get("data-token-url") == "/api/shares/token?release=wang-yi&language=zh"
    assert doc.find(".//legend").text == "通过电子邮件发送"
    assert form.find(".//button").text == "发送"
    assert doc.find(".//title").text == "王毅会见拉夫罗夫 · 外交部新闻发布"
    assert doc.find(".//link[@rel='canonical']").get("href") == BASE_URL + "zh/releases/wang-yi/"
    fine = doc.find(".//p[@class='fine']").text
    assert "30 天" in fine and "Addresses" not in fine


def test_an_arabic_page_is_right_to_left_with_arabic_dates(
    pages: Pages, languages: Languages
) -> None:
    ar = pages.in_language(languages.get("ar"))
    doc = html.fromstring(ar.release(stored("ar", "وانغ يي يلتقي لافروف")))
    assert (doc.get("lang"), doc.get("dir")) == ("ar", "rtl")
    assert doc.find(".//time").text == "11 سبتمبر 2020"
    assert doc.find(".//nav[@class='breadcrumb']/a").text == "الرئيسية"
    page = html.fromstring(ar.simple("404.html"))
    assert page.get("dir") == "rtl" and page.find(".//h1").text == "الصفحة غير موجودة"
    assert page.find(".//main//a").get("href") == "/ar/"


def test_a_russian_index_page(pages: Pages, languages: Languages) -> None:
    ru = pages.in_language(languages.get("ru"))
    page = html.fromstring(ru.index([], page=2, newer="/ru/", older=None))
    assert page.find(".//title").text == "Пресс-служба · страница 2"
    assert page.find(".//p[@class='empty']").text == "Пресс-релизов пока нет."
    assert page.find(".//a[@rel='prev']").text == "← Новее"
    assert page.find(".//footer//a").text == "Карта сайта"


def test_alternates_and_the_language_switcher(pages: Pages, languages: Languages) -> None:
    zh = pages.in_language(languages.get("zh"))
    alts = alternates(languages, "zh", {"en", "zh"})
    doc = html.fromstring(zh.release(stored("zh"), alternates=alts))
    links = {link.get("hreflang"): link.get("href") for link in doc.findall(".//link[@hreflang]")}
    # Only the translated pages (the current one among them), and x-default: the site's own.
    assert links == {
        "en": BASE_URL + "releases/wang-yi/",
        "zh": BASE_URL + "zh/releases/wang-yi/",
        "x-default": BASE_URL + "releases/wang-yi/",
    }
    switch = doc.findall(".//nav[@class='languages']//a")
    assert [(a.text, a.get("lang"), a.get("href")) for a in switch] == [
        ("English", "en", "/releases/wang-yi/"),
        ("العربية", "ar", "/ar/"),  # no Arabic translation: that language's home
        ("русский", "ru", "/ru/"),
        ("中文", "zh", "/zh/releases/wang-yi/"),
    ]
    assert [a.get("aria-current") for a in switch] == [None, None, None, "page"]
    assert doc.find(".//nav[@class='languages']").get("aria-label") == "语言"


def test_one_language_has_no_alternates_and_no_switcher(pages: Pages) -> None:
    for body in (pages.release(stored(None)), pages.simple("404.html")):
        assert b"hreflang" not in body and b'class="languages"' not in body
        assert body.startswith(b'<!DOCTYPE html>\n<html lang="en">\n')
    doc = html.fromstring(pages.release(stored(None)))
    assert doc.find(".//time").text == "September 11, 2020"
    assert doc.find(".//nav[@class='breadcrumb']/a").text == "Home"


def test_every_language_shares_the_one_compiled_environment(
    pages: Pages, languages: Languages
) -> None:
    others = [pages.in_language(lang) for lang in languages]
    assert all(p.env is pages.env and p._hot is pages._hot for p in others)
    # Release and index pages have their fixed strings compiled in per language
    # (folding.py): made once, on first use, and only for a language that renders them.
    assert pages._hot == {}
    first = others[1]._templates()
    assert others[1]._templates() is first and set(pages._hot) == {others[1].language.tag}
    assert pages.in_language(languages.default) is pages
    # The default language's pages are the pages themselves; the others are not changed
    # by being made (in_language copies).
    assert pages.base["lang"] == "en" and others[1].base["lang"] != "en"


def test_pages_in_two_languages_render_at_once_each_in_its_own(
    pages: Pages, languages: Languages
) -> None:
    """The server renders cold pages in worker threads: no language leaks into another."""
    zh = pages.in_language(languages.get("zh"))
    wrong: list[str] = []

    def render(p: Pages, tag: str | None, home: str) -> None:
        for _ in range(60):
            body = p.release(stored(tag)).decode()
            if f">{home}</a>" not in body:
                wrong.append(tag or "en")

    threads = [
        threading.Thread(target=render, args=(zh, "zh", "首页")),
        threading.Thread(target=render, args=(pages, None, "Home")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_a_feed_page_in_the_feeds_language(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path, languages={"zh": {"title": "外交部新闻"}})
    room.add("news.txt", "Big news", "November 26, 2026")
    room.write(
        "news.zh.md",
        '+++\ntitle = "重大新闻"\ndate = 2026-11-26T09:00:00Z\nsection = "Press Releases"\n'
        "+++\n正文。\n",
    )
    room.ingest()
    sites = room.site
    docs = {d.path: d for d in sites.documents()}
    zh = html.fromstring(sites.feed_page(docs["zh/atom.xml"]).body)
    en = html.fromstring(sites.feed_page(docs["atom.xml"]).body)
    room.store.close()
    assert zh.get("lang") == "zh"
    assert zh.find(".//title").text == "外交部新闻（Atom 订阅源）"
    assert zh.find(".//h2[@id='about-feed']").text == "这是一个网络订阅源"
    assert zh.find(".//ol//time").text == "2026年11月26日"
    assert zh.find(".//p[@class='fine']").text_content() == (
        "如果您的阅读器更适合其他格式，也可使用同一订阅源的 RSS 或 JSON Feed 版本。"
    )
    assert en.find(".//h2[@id='about-feed']").text == "This is a web feed"
    assert en.find(".//p[@class='fine']").text_content() == (
        "The same feed as RSS or JSON Feed, if your reader prefers it."
    )
