from __future__ import annotations

import datetime as dt
import shutil
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree, html

from feedsvc.publishing.mailto import mailto_link
from tests.conftest import BASE_URL, SEED, SEED_ID, SEED_TITLE, Newsroom, make_newsroom


def page(newsroom: Newsroom, path: str) -> html.HtmlElement:
    return html.fromstring(newsroom.documents()[path].body)


def test_release_page_has_the_text_discovery_and_cards(newsroom: Newsroom) -> None:
    shutil.copy(SEED, newsroom.items / SEED.name)
    newsroom.ingest()
    doc = newsroom.documents()[f"releases/{SEED_ID}/"]
    assert doc.media_type == "text/html; charset=utf-8"
    assert doc.body.startswith(b"<!DOCTYPE html>")
    tree = html.fromstring(doc.body)
    assert tree.findtext(".//h1") == SEED_TITLE
    assert len(tree.findall(".//div[@class='body']/p")) == 5
    assert "Suggest To A Friend" in tree.findtext(".//section[@class='share']/h2")
    assert b"&lt;Suggest To A Friend&gt;" not in doc.body
    alternates = {
        (link.get("type"), link.get("href")) for link in tree.findall(".//link[@rel='alternate']")
    }
    assert ("application/rss+xml", f"{BASE_URL}feed.xml") in alternates
    assert ("application/atom+xml", f"{BASE_URL}atom.xml") in alternates
    assert ("application/feed+json", f"{BASE_URL}feed.json") in alternates
    assert ("application/rss+xml", f"{BASE_URL}sections/news-events/feed.xml") in alternates
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.findall(".//meta")}
    assert meta["og:title"] == SEED_TITLE
    assert meta["og:url"] == f"{BASE_URL}releases/{SEED_ID}/"
    assert meta["og:type"] == "article"
    assert meta["article:published_time"] == "2020-09-11T09:00:00+08:00"
    assert meta["twitter:card"] == "summary"
    assert meta["og:description"].startswith("On September 11, 2020, local time")
    assert tree.find(".//link[@rel='canonical']").get("href") == f"{BASE_URL}releases/{SEED_ID}/"


def test_share_by_email_link_follows_rfc_6068(newsroom: Newsroom) -> None:
    shutil.copy(SEED, newsroom.items / SEED.name)
    newsroom.ingest()
    tree = page(newsroom, f"releases/{SEED_ID}/")
    href = tree.find(".//a[@class='mailto']").get("href")
    assert href.startswith("mailto:?subject=Wang%20Yi%3A%20China")
    assert "+" not in href and " " not in href
    query = parse_qs(urlsplit(href).query)
    assert query["subject"] == [SEED_TITLE]
    body = query["body"][0]
    assert "%0D%0A%0D%0A" in href
    summary, url = body.split("\r\n\r\n")
    assert summary.startswith("On September 11, 2020")
    assert url == f"{BASE_URL}releases/{SEED_ID}/"


def test_mailto_cannot_gain_headers() -> None:
    link = mailto_link("Hi&bcc=victim@example.org\r\nBcc: x", "a\nb", "https://e.org/?a=1&b=2")
    assert link.count("&") == 1  # only the one between subject and body
    assert "\r" not in link and "\n" not in link
    assert unquote(link.split("subject=")[1].split("&")[0]) == "Hi&bcc=victim@example.org Bcc: x"


def test_release_text_is_escaped_everywhere(newsroom: Newsroom) -> None:
    newsroom.write(
        "x.txt",
        '+++\nsection = "News <b>bold</b>"\n+++\n'
        'Evil <script>alert(1)</script> "title"\n\n'
        "On March 1, 2021, the <img src=x onerror=alert(1)> body & more.\n",
    )
    assert newsroom.ingest().problems == []
    docs = newsroom.documents()
    for path in ("releases/x/", "", "sections/news-b-bold-b/"):
        body = docs[path].body
        assert b"<script>alert" not in body, path
        assert b"<img src=x" not in body, path
        assert b"<b>bold</b>" not in body, path
    tree = html.fromstring(docs["releases/x/"].body)
    assert tree.findtext(".//h1") == 'Evil <script>alert(1)</script> "title"'
    assert tree.find(".//meta[@property='og:title']").get("content") == (
        'Evil <script>alert(1)</script> "title"'
    )


def test_page_parses_as_html5_without_errors(newsroom: Newsroom) -> None:
    shutil.copy(SEED, newsroom.items / SEED.name)
    newsroom.ingest()

    class Checker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.void = {"meta", "link", "br", "img", "input", "hr", "source"}

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag not in self.void:
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, (self.stack, tag)
            self.stack.pop()

    for path in (f"releases/{SEED_ID}/", "", "404.html", "sections/news-events/"):
        checker = Checker()
        checker.feed(newsroom.documents()[path].body.decode())
        assert checker.stack == [], path


def test_index_pages_newest_first_with_paging(tmp_path) -> None:
    room = make_newsroom(tmp_path, pages={"per_page": 2})
    for day in range(1, 6):
        room.add(f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    room.ingest()
    docs = room.documents()
    assert [p for p in docs if p == "" or p.startswith("page/")] == ["", "page/2/", "page/3/"]
    first = html.fromstring(docs[""].body)
    assert [a.text for a in first.findall(".//ol/li/h2/a")] == ["Release 5", "Release 4"]
    assert first.find(".//a[@rel='next']").get("href") == "/page/2/"
    assert first.find(".//a[@rel='prev']") is None
    last = html.fromstring(docs["page/3/"].body)
    assert [a.text for a in last.findall(".//ol/li/h2/a")] == ["Release 1"]
    assert last.find(".//a[@rel='prev']").get("href") == "/page/2/"
    room.store.close()


def test_sitemap_lists_every_published_page(newsroom: Newsroom) -> None:
    newsroom.add("a.txt", "A", "March 1, 2021")
    newsroom.add("b.txt", "B", "March 2, 2021", section="Speeches")
    newsroom.ingest()
    doc = newsroom.documents()["sitemap.xml"]
    assert doc.media_type == "application/xml; charset=utf-8"
    tree = etree.fromstring(doc.body)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = tree.xpath("//s:loc/text()", namespaces=ns)
    assert set(locs) == {
        BASE_URL,
        f"{BASE_URL}sections/press-releases/",
        f"{BASE_URL}sections/speeches/",
        f"{BASE_URL}releases/a/",
        f"{BASE_URL}releases/b/",
    }
    assert tree.xpath(
        "//s:url[s:loc='" + BASE_URL + "releases/b/']/s:lastmod/text()", namespaces=ns
    ) == ["2021-03-02"]


def test_a_site_with_no_releases_still_builds(newsroom: Newsroom) -> None:
    docs = newsroom.documents()
    assert b"No releases yet" in docs[""].body
    assert etree.fromstring(docs["feed.xml"].body).find("channel/item") is None


def test_without_the_share_form_the_share_sentence_is_complete(tmp_path) -> None:
    room = make_newsroom(tmp_path, share={"enabled": False})
    shutil.copy(SEED, room.items / SEED.name)
    room.ingest()
    tree = page(room, f"releases/{SEED_ID}/")
    share = tree.find(".//section[@class='share']")
    assert share.find(".//form") is None
    sentence = " ".join(share.find("p").text_content().split())
    assert sentence == "Share by email from your own mail program."
    room.store.close()

    # With the form, the sentence leads to it.
    enabled = make_newsroom(tmp_path / "enabled")
    shutil.copy(SEED, enabled.items / SEED.name)
    enabled.ingest()
    share = page(enabled, f"releases/{SEED_ID}/").find(".//section[@class='share']")
    assert share.find("p").text_content().endswith(", or:")
    assert share.find(".//form") is not None
    enabled.store.close()


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_dates(body: bytes) -> dict[str, str | None]:
    tree = etree.fromstring(body)
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in tree.iterfind("s:url", namespaces=SITEMAP_NS)
    }


def test_sitemap_lists_every_index_page_and_dates_index_and_section_pages(tmp_path) -> None:
    room = make_newsroom(tmp_path, pages={"per_page": 2}, feeds={"limit": 2})
    for day in range(1, 6):
        room.add(f"r{day}.txt", f"Release {day}", f"March {day}, 2021", section="Speeches")
    room.add("other.txt", "Other", "February 1, 2021")
    room.ingest()
    # An edit of an old release moves its `updated`, and so the date of the pages listing it.
    room.clock.advance(days=1)
    room.add("r1.txt", "Release 1 (corrected)", "March 1, 2021", section="Speeches")
    room.ingest()
    edited = room.clock.now().date().isoformat()
    docs = room.documents()
    dates = sitemap_dates(docs["sitemap.xml"].body)
    pages = [p for p in docs if p == "" or p.startswith("page/")]
    assert pages == ["", "page/2/", "page/3/"]
    assert {f"{BASE_URL}{p}" for p in pages} <= set(dates)
    day = {
        rid: room.store.releases.get(rid).updated.astimezone(dt.UTC).date().isoformat()
        for rid in ("r1", "r2", "r3", "r4", "r5", "other")
    }
    assert day["r1"] == edited
    assert dates[BASE_URL] == max(day["r5"], day["r4"])
    assert dates[f"{BASE_URL}page/2/"] == max(day["r3"], day["r2"])
    assert dates[f"{BASE_URL}page/3/"] == edited  # r1, other
    # A section page lists its newest feeds.limit releases (r5, r4): r1's edit is not there.
    assert dates[f"{BASE_URL}sections/speeches/"] == max(day["r5"], day["r4"]) != edited
    assert dates[f"{BASE_URL}sections/press-releases/"] == day["other"]
    assert dates[f"{BASE_URL}releases/r1/"] == edited
    # Same data, same bytes.
    assert room.documents()["sitemap.xml"].body == docs["sitemap.xml"].body
    room.store.close()


def test_sitemap_parts_count_the_index_pages(tmp_path, monkeypatch) -> None:
    from feedsvc.publishing import sitemap as sitemap_module
    from feedsvc.publishing.cache import DocumentCache, Missing

    monkeypatch.setattr(sitemap_module, "SITEMAP_MAX_URLS", 4)
    room = make_newsroom(tmp_path, pages={"per_page": 1})
    for day in range(1, 4):
        room.add(f"r{day}.txt", f"Release {day}", f"March {day}, 2021")
    room.ingest()
    # 3 index pages + 1 section + 3 releases = 7 URLs: two parts of at most 4.
    docs = room.documents()
    assert [p for p in docs if p.startswith("sitemap")] == [
        "sitemaps/1.xml",
        "sitemaps/2.xml",
        "sitemap.xml",
    ]
    listed = [
        loc for p in ("sitemaps/1.xml", "sitemaps/2.xml") for loc in sitemap_dates(docs[p].body)
    ]
    assert listed == [
        BASE_URL,
        f"{BASE_URL}page/2/",
        f"{BASE_URL}page/3/",
        f"{BASE_URL}sections/press-releases/",
        f"{BASE_URL}releases/r3/",
        f"{BASE_URL}releases/r2/",
        f"{BASE_URL}releases/r1/",
    ]
    cache = DocumentCache(room.site, room.store.releases, tmp_path / "cache")
    cache.load()
    for path in ("sitemap.xml", "sitemaps/1.xml", "sitemaps/2.xml"):
        assert cache.get(path).body == docs[path].body, path
    assert cache.get("sitemaps/3.xml") is Missing.NOT_FOUND
    cache.close()
    room.store.close()
