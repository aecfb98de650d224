"""schema.org NewsArticle JSON-LD on release pages (issue 17 item 4): it parses, it has
every property Google's Article structured-data documentation lists (none required; the
recommended ones below) and what the issue adds, and no title can end its <script>."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from lxml import html

from feedsvc.publishing.structured import script_json
from tests.conftest import BASE_URL, Newsroom
from tests.publishing.media_corpus import make_media_room
from tests.publishing.release_end_corpus import (
    ENDED,
    HOSTILE_TITLE,
    ZH,
    ended_newsroom,
    write_ended,
)

# Google Search Central, "Article (Article, NewsArticle, BlogPosting) structured data":
# "There are no required properties"; recommended: author (author.name, author.url),
# dateModified, datePublished, headline, image. Issue 17 adds publisher (with logo),
# inLanguage, mainEntityOfPage, description, articleSection, keywords, isAccessibleForFree.
GOOGLE_RECOMMENDED = ("author", "dateModified", "datePublished", "headline", "image")
ISSUE_17 = (
    "publisher",
    "inLanguage",
    "mainEntityOfPage",
    "description",
    "articleSection",
    "keywords",
    "isAccessibleForFree",
)


def json_ld(page: bytes) -> dict:
    tree = html.fromstring(page)
    (script,) = tree.xpath("//head/script[@type='application/ld+json']")
    return json.loads(script.text)


@pytest.fixture
def ended(tmp_path: Path) -> Newsroom:
    room = ended_newsroom(tmp_path)
    write_ended(room)
    assert room.ingest().problems == []
    yield room
    room.store.close()


def test_a_release_page_has_every_property_google_lists(ended: Newsroom) -> None:
    data = json_ld(ended.documents()[f"releases/{ENDED}/"].body)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    without_image = [p for p in GOOGLE_RECOMMENDED if p != "image"]  # no picture here
    assert [p for p in (*without_image, *ISSUE_17) if p not in data] == []
    assert "image" not in data
    url = BASE_URL + f"releases/{ENDED}/"
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert data["headline"] == HOSTILE_TITLE  # whole: Google dropped the 110-character cut
    for name in ("datePublished", "dateModified"):
        assert dt.datetime.fromisoformat(data[name]).tzinfo is not None  # ISO 8601 with zone
    assert data["datePublished"] == "2026-11-27T09:00:00+08:00"
    assert all(a.get("name") for a in data["author"])
    assert any(a.get("url") == BASE_URL for a in data["author"])
    publisher = data["publisher"]
    assert publisher["@type"] == "Organization" and publisher["url"] == BASE_URL
    assert publisher["logo"] == {"@type": "ImageObject", "url": BASE_URL + "assets/logo.png"}
    assert data["inLanguage"] == "en"
    assert data["keywords"] == ["trade", "Asia"]
    assert data["isAccessibleForFree"] is True
    assert data["articleSection"] == "Press Releases"


def test_another_language_speaks_in_its_own_site(ended: Newsroom) -> None:
    data = json_ld(ended.documents()[f"zh/releases/{ZH}/"].body)
    assert data["inLanguage"] == "zh"
    assert data["publisher"]["name"] == "外交部新闻发布"
    assert data["mainEntityOfPage"]["@id"] == BASE_URL + f"zh/releases/{ZH}/"
    # The logo is below the site as configured, not below the language's folder.
    assert data["publisher"]["logo"]["url"] == BASE_URL + "assets/logo.png"


def test_a_title_cannot_close_the_script(ended: Newsroom) -> None:
    page = ended.documents()[f"releases/{ENDED}/"].body.decode()
    start = page.index('<script type="application/ld+json">')
    inside = page[start : page.index("</script>", start)]
    assert "<" not in inside[1:] and "alert(1)" in inside  # the title is there, escaped
    assert "<!--" not in inside
    assert str(script_json({"t": "</script><!--&\u2028"})) == (
        '{"t":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}'
    )


def test_the_lead_picture_is_the_image_largest_first(newsroom: Newsroom, tmp_path: Path) -> None:
    room = make_media_room(newsroom, tmp_path / "media-cache")
    data = json_ld(room.documents()[f"releases/{room.release.id}/"].body)
    images = data["image"]
    assert all(i["@type"] == "ImageObject" and i["url"].startswith(BASE_URL) for i in images)
    widths = [i["width"] for i in images[:-1]]  # the renditions, then the 1200x630 card
    assert widths == sorted(widths, reverse=True) and widths[0] == 1600
    assert (images[-1]["width"], images[-1]["height"]) == (1200, 630)
