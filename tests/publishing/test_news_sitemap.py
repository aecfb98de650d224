"""news-sitemap.xml (issue 17 item 4), against Google's "News sitemaps": a urlset with the
news namespace; only visible releases of the last two days, at most 1,000, newest first;
each with news:publication (name, language as Google wants it), news:publication_date
(W3C datetime with its zone) and news:title; empty but valid when nothing is that new; and
the one served drops a release when it turns two days old, with no change to the data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from feedsvc.build import site_of
from feedsvc.publishing import news_sitemap
from feedsvc.publishing.cache import DocumentCache, Ready
from tests.conftest import BASE_URL, Newsroom
from tests.publishing.release_end_corpus import ended_newsroom

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS = {"sm": SM, "news": news_sitemap.NEWS_NS}
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # make_newsroom's clock


def release(room: Newsroom, name: str, when: dt.datetime, extra: str = "") -> None:
    room.write(
        f"{name}.md",
        f'+++\ntitle = "{name} <&> news"\ndate = {when.isoformat()}\n'
        f'section = "Press Releases"\n{extra}+++\nText of {name}.\n',
    )


@pytest.fixture
def room(tmp_path: Path) -> Newsroom:
    room = ended_newsroom(tmp_path)
    release(room, "fresh", NOW - dt.timedelta(hours=3))
    release(room, "yesterday", NOW - dt.timedelta(days=1, hours=20))
    release(room, "old", NOW - dt.timedelta(days=2, minutes=1))
    release(room, "secret", NOW - dt.timedelta(hours=1), 'publish_at = "2026-12-30T09:00:00Z"\n')
    release(room, "gone", NOW - dt.timedelta(hours=2))
    release(room, "xinwen", NOW - dt.timedelta(hours=4), 'language = "zh"\n')
    assert room.ingest().problems == []
    (room.items / "gone.md").unlink()
    room.ingest()
    yield room
    room.store.close()


def entries(body: bytes) -> list[dict[str, str]]:
    root = etree.fromstring(body)
    assert root.tag == f"{{{SM}}}urlset"
    out = []
    for url in root.findall("sm:url", NS):
        (news,) = url.findall("news:news", NS)
        out.append(
            {
                "loc": url.findtext("sm:loc", namespaces=NS),
                "name": news.findtext("news:publication/news:name", namespaces=NS),
                "language": news.findtext("news:publication/news:language", namespaces=NS),
                "date": news.findtext("news:publication_date", namespaces=NS),
                "title": news.findtext("news:title", namespaces=NS),
            }
        )
    return out


def test_the_last_two_days_visible_only_newest_first(room: Newsroom) -> None:
    found = entries(room.documents()["news-sitemap.xml"].body)
    assert [e["loc"] for e in found] == [
        BASE_URL + "releases/fresh/",
        BASE_URL + "zh/releases/xinwen/",
        BASE_URL + "releases/yesterday/",
    ]  # not the old one, not the embargoed one, not the withdrawn one
    fresh, xinwen = found[0], found[1]
    assert fresh["title"] == "fresh <&> news"
    assert (fresh["name"], fresh["language"]) == ("Ministry Press Office", "en")
    assert (xinwen["name"], xinwen["language"]) == ("外交部新闻发布", "zh-cn")
    # W3C datetime with its zone, in the site's time zone (Asia/Shanghai).
    assert fresh["date"] == "2026-11-27T17:00:00+08:00"


def test_as_the_clock_moves_the_window_moves(room: Newsroom) -> None:
    room.clock.advance(days=1)
    found = entries(room.documents()["news-sitemap.xml"].body)
    assert [e["loc"].rsplit("/", 2)[-2] for e in found] == ["fresh", "xinwen"]
    room.clock.advance(days=2)
    assert entries(room.documents()["news-sitemap.xml"].body) == []  # an empty urlset


def test_the_served_one_drops_a_release_when_it_turns_two_days_old(room: Newsroom) -> None:
    sites = site_of(room.settings, room.store.releases, room.clock)
    cache = DocumentCache(sites, room.store.releases, room.root / "cache")
    cache.load()

    def served() -> list[str]:
        ready = cache.get("news-sitemap.xml")
        assert isinstance(ready, Ready)
        assert ready.media_type == "application/xml; charset=utf-8"
        return [e["loc"].rsplit("/", 2)[-2] for e in entries(ready.body)]

    assert served() == ["fresh", "xinwen", "yesterday"]
    room.clock.advance(hours=3, minutes=59)  # "yesterday" is 1 minute short of two days
    assert served() == ["fresh", "xinwen", "yesterday"]
    room.clock.advance(minutes=2)  # now it is older: gone, though nothing changed
    assert served() == ["fresh", "xinwen"]
    cache.close()


def test_at_most_1000_and_the_store_read_stops_there(room: Newsroom) -> None:
    url = news_sitemap.NewsUrl(BASE_URL + "releases/x/", "Office", "en", NOW, "x")
    assert len(entries(news_sitemap.render([url] * 1001))) == news_sitemap.NEWS_MAX_URLS == 1000
    reads = room.site.news
    rows = reads.published_since(NOW - dt.timedelta(days=2), [None, "zh"], limit=2)
    assert [r.release_id for r in rows] == ["fresh", "xinwen"]


@pytest.mark.parametrize(
    ("tag", "google"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("pt-BR", "pt"),
        ("ar", "ar"),
        ("zh", "zh-cn"),
        ("zh-Hans", "zh-cn"),
        ("zh-CN", "zh-cn"),
        ("zh-Hant", "zh-tw"),
        ("zh-TW", "zh-tw"),
        ("zh-Hant-HK", "zh-tw"),
        ("fil", "fil"),
    ],
)
def test_language_codes_as_google_wants_them(tag: str, google: str) -> None:
    assert news_sitemap.news_language(tag) == google
