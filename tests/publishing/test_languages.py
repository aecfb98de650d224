"""Issue 15: a site in several languages, from the files to the documents: a Chinese and
English pair and an Arabic release read, stored each in its language, published in its own
feeds, pages, archives and sitemap entries, linked to each other, and re-rendered only in
the language a change touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from feedsvc.announce import announcer_of
from feedsvc.build import site_of
from feedsvc.model import Changes
from feedsvc.publishing.cache import DocumentCache, Missing, Ready
from feedsvc.publishing.site import Document
from tests import feedlint
from tests.conftest import BASE_URL, Newsroom, make_newsroom

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML_NS = "http://www.w3.org/1999/xhtml"
ZH_PAIR = (
    "---\ntitle: 王毅会见俄罗斯外长\nsection: 外交部新闻\ndate: 2020-09-11T10:00:00+08:00\n"
    "---\n2020年9月11日，王毅在莫斯科会见俄罗斯外长拉夫罗夫。\n"
)
AR_ALONE = (
    "---\ntitle: بيان صحفي\nsection: أخبار الوزارة\ndate: 2020-09-12T10:00:00+03:00\n---\n"
    "أصدرت الوزارة بياناً اليوم.\n"
)
LINTERS = {
    "feed.xml": feedlint.lint_rss,
    "atom.xml": feedlint.lint_atom,
    "feed.json": feedlint.lint_json_feed,
}


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(
        tmp_path,
        languages={"zh": {"title": "外交部新闻发布"}, "ar": {"title": "المكتب الصحفي"}},
        feeds={"archive_page_size": 2},
    )
    room.add("pair.txt", "Wang Yi Meets Lavrov", "September 11, 2020", section="News & Events")
    room.add("other.txt", "Another Statement", "September 10, 2020", section="News & Events")
    room.write("pair.zh.md", ZH_PAIR)
    room.write("statement.ar.md", AR_ALONE)
    result = room.ingest()
    assert result.problems == []
    yield room
    room.store.close()


def docs(room: Newsroom) -> dict[str, Document]:
    return {d.path: d for d in site_of(room.settings, room.store.releases, room.clock).documents()}


def test_each_translation_is_a_release_of_its_own_in_the_store(room: Newsroom) -> None:
    en, zh = room.store.releases.get("pair"), room.store.releases.get("pair@zh")
    ar = room.store.releases.get("statement@ar")
    assert en and zh and ar
    assert (zh.id, zh.key, zh.release.language) == ("pair", "pair@zh", "zh")
    # Each language numbers its own archive; a translation shares its release's tag date.
    assert {en.seq, zh.seq, ar.seq} == {2, 1} and zh.seq == 1 and ar.seq == 1
    assert zh.tag_date == en.tag_date
    assert zh.tag_uri("press.example.org") == en.tag_uri("press.example.org") + ":zh"
    assert room.store.releases.translations(["pair", "statement"]) == {"pair": {"", "zh"}}


def test_every_language_has_its_feeds_each_in_one_language_and_valid(room: Newsroom) -> None:
    site = docs(room)
    for prefix, language, titles in (
        ("", "en", {"Wang Yi Meets Lavrov", "Another Statement"}),
        ("zh/", "zh", {"王毅会见俄罗斯外长"}),
        ("ar/", "ar", {"بيان صحفي"}),
    ):
        for name, lint in LINTERS.items():
            body = site[prefix + name].body
            assert lint(body) == [], (prefix + name, lint(body))
        rss = etree.fromstring(site[prefix + "feed.xml"].body)
        assert rss.findtext("channel/language") == language
        assert {t.text for t in rss.iterfind("channel/item/title")} == titles
        atom = etree.fromstring(site[prefix + "atom.xml"].body)
        assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == language
        assert json.loads(site[prefix + "feed.json"].body)["language"] == language
    assert etree.fromstring(site["zh/feed.xml"].body).findtext("channel/title") == "外交部新闻发布"
    # Sections and archives live in their language's folder; a Chinese name is its slug.
    assert "zh/sections/外交部新闻/feed.xml" in site and "zh/archive/1/atom.xml" in site
    assert "sections/外交部新闻/feed.xml" not in site and "ar/archive/1/feed.json" in site


def test_atom_entries_link_their_translations(room: Newsroom) -> None:
    atom = etree.fromstring(docs(room)["atom.xml"].body)
    by_title = {e.findtext(f"{ATOM}title"): e for e in atom.iterfind(f"{ATOM}entry")}
    links = by_title["Wang Yi Meets Lavrov"].findall(f"{ATOM}link[@rel='alternate']")
    assert [(a.get("hreflang"), a.get("href")) for a in links] == [
        (None, BASE_URL + "releases/pair/"),
        ("zh", BASE_URL + "zh/releases/pair/"),
    ]
    alone = by_title["Another Statement"].findall(f"{ATOM}link[@rel='alternate']")
    assert len(alone) == 1  # nothing to link


def test_the_sitemap_lists_every_language_with_its_alternates(room: Newsroom) -> None:
    tree = etree.fromstring(docs(room)["sitemap.xml"].body)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": XHTML_NS}
    locs = [loc.text for loc in tree.iterfind("s:url/s:loc", ns)]
    for path in ("", "zh/", "ar/", "releases/pair/", "zh/releases/pair/", "ar/releases/statement/"):
        assert BASE_URL + path in locs
    [zh_url] = [
        u
        for u in tree.iterfind("s:url", ns)
        if u.findtext("s:loc", None, ns).endswith("zh/releases/pair/")
    ]
    assert [(a.get("hreflang"), a.get("href")) for a in zh_url.iterfind("x:link", ns)] == [
        ("en", BASE_URL + "releases/pair/"),
        ("zh", BASE_URL + "zh/releases/pair/"),
    ]


def test_a_one_language_site_writes_no_alternates(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path)
    room.add("pair.txt", "Alone", "September 11, 2020")
    room.ingest()
    try:
        site = docs(room)
        assert b"xhtml" not in site["sitemap.xml"].body and b"hreflang" not in site["atom.xml"].body
        assert not any(path.startswith(("zh/", "en/")) for path in site)
    finally:
        room.store.close()


@pytest.fixture
def cache(room: Newsroom) -> Iterator[DocumentCache]:
    sites = site_of(room.settings, room.store.releases, room.clock)
    cache = DocumentCache(sites, room.store.releases, room.root / "cache")
    cache.load()
    yield cache
    cache.close()


def ready(cache: DocumentCache, path: str) -> Ready:
    found = cache.get(path)
    assert isinstance(found, Ready), (path, found)
    return found


def test_the_cache_serves_each_language_at_its_paths(cache: DocumentCache) -> None:
    assert "王毅会见俄罗斯外长" in ready(cache, "zh/releases/pair/").body.decode()
    assert "بيان صحفي" in ready(cache, "ar/releases/statement/").body.decode()
    assert ready(cache, "zh/sections/外交部新闻/").body
    for missing in (
        "releases/statement/",
        "zh/releases/other/",
        "fr/releases/pair/",
        "zh/archive/2/feed.xml",
        "sections/外交部新闻/",
    ):
        assert cache.get(missing) is Missing.NOT_FOUND, missing
    assert ready(cache, "sitemap.xml").body


def test_an_added_translation_re_renders_only_its_language(
    room: Newsroom, cache: DocumentCache
) -> None:
    before = dict(cache.hot)
    room.write("other.zh.md", ZH_PAIR.replace("王毅会见", "另一份声明："))
    result = room.ingest()
    assert result.changes.added == ["other@zh"] and result.changes.in_scope(None).added == []
    cache.apply(result.changes)
    changed = {path for path, r in cache.hot.items() if before.get(path) is not r}
    assert changed and all(path.startswith("zh/") for path in changed), changed
    assert "另一份声明" in ready(cache, "zh/feed.xml").body.decode()
    sites = site_of(room.settings, room.store.releases, room.clock)
    rendered = {d.path for d in sites.changed_feeds(result.changes)}
    assert rendered and all(path.startswith("zh/") for path in rendered), rendered


def test_withdrawing_a_translation_leaves_the_other_language(
    room: Newsroom, cache: DocumentCache
) -> None:
    (room.items / "pair.zh.md").unlink()
    result = room.ingest()
    assert result.changes.withdrawn == ["pair@zh"]
    cache.apply(result.changes)
    assert cache.get("zh/releases/pair/") is Missing.GONE
    assert ready(cache, "releases/pair/").body
    assert cache.error_page(Missing.GONE, "zh/releases/pair/") is not cache.errors[Missing.GONE]
    atom = ready(cache, "zh/atom.xml").body
    assert b"deleted-entry" in atom and b"release:pair:zh" in atom  # a tombstone, in zh only
    assert b"deleted-entry" not in ready(cache, "atom.xml").body


def test_announcements_name_the_translation_and_its_feeds(room: Newsroom) -> None:
    announce = announcer_of(room.settings)
    changes = Changes(sections={"外交部新闻@zh"}, added=["x@zh"])
    topics = announce.topics(changes)
    assert BASE_URL + "zh/feed.xml" in topics
    assert BASE_URL + "zh/sections/外交部新闻/atom.xml" in topics
    # Issue 17: and as the feed's Link header spells it, percent-encoded (RFC 8288).
    assert BASE_URL + "zh/sections/%E5%A4%96%E4%BA%A4%E9%83%A8%E6%96%B0%E9%97%BB/atom.xml" in topics
    assert BASE_URL + "feed.xml" not in topics  # the English feeds did not change


@pytest.mark.sqlite_only  # the pages are the same bytes on either database
def test_every_page_of_every_language_passes_the_nu_html_checker(
    room: Newsroom, tmp_path: Path
) -> None:
    from tests import npm
    from tests.publishing.test_html_valid import nu_messages

    home = npm.tools()
    sites = site_of(room.settings, room.store.releases, room.clock)
    every = list(sites.documents())
    pages = [d for d in every if d.media_type.startswith("text/html")]
    pages += [p for d in every if d.feed is not None and (p := sites.feed_page(d)) is not None]
    assert {p.path.partition("/")[0] for p in pages} >= {"zh", "ar", "releases", ""}
    out = tmp_path / "pages"
    out.mkdir()
    files = []
    for n, doc in enumerate(pages):
        file = out / f"{n:03d}.html"
        file.write_bytes(doc.body)
        files.append(file)
    assert nu_messages(home, files) == []


def test_pages_say_their_language_and_direction_and_link_their_translations(
    room: Newsroom,
) -> None:
    site = docs(room)
    for path, lang, direction in (
        ("releases/pair/", "en", "ltr"),
        ("zh/releases/pair/", "zh", "ltr"),
        ("ar/releases/statement/", "ar", "rtl"),
        ("ar/", "ar", "rtl"),
    ):
        html = etree.HTML(site[path].body)
        assert html.get("lang") == lang, path
        assert html.get("dir", "ltr") == direction, path
    zh = etree.HTML(site["zh/releases/pair/"].body)
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in zh.iterfind(".//head/link[@rel='alternate'][@hreflang]")
    }
    assert alternates == {
        "en": BASE_URL + "releases/pair/",
        "zh": BASE_URL + "zh/releases/pair/",
        "x-default": BASE_URL + "releases/pair/",
    }
    # The switcher leads to the same release in the other language, or to the language's
    # home page where it has no translation.
    hrefs = {
        a.get("hreflang") or a.get("lang"): a.get("href") for a in zh.iterfind(".//nav//a[@lang]")
    }
    assert hrefs.get("en") == "/releases/pair/" and hrefs.get("ar") == "/ar/"


def test_configuring_a_language_later_re_reads_the_files_it_names(tmp_path: Path) -> None:
    """An office that adds [languages.zh] after its Chinese files were read as English
    releases `x.zh`: they become the translations they are, and nothing else moves."""
    room = make_newsroom(tmp_path)
    room.add("pair.txt", "Wang Yi Meets Lavrov", "September 11, 2020")
    room.add("pair.zh.txt", "王毅会见拉夫罗夫", "September 11, 2020")
    assert sorted(room.ingest().changes.added) == ["pair", "pair.zh"]
    room.store.close()
    again = make_newsroom(
        tmp_path, languages={"zh": {}}, database={"url": room.settings.database.url}
    )
    try:
        result = again.ingest()
        assert result.changes.added == ["pair@zh"] and result.changes.withdrawn == ["pair.zh"]
        assert result.changes.updated == []  # the English release is untouched
        assert not again.ingest().changes  # and the next scan reads nothing again
    finally:
        again.store.close()
