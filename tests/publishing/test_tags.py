"""Issue 17 item 2: tags. Each tag a release names has a page and RSS, Atom and JSON feeds
(tags/<slug>/), like a section's; the release page links its tags; the feeds' categories
name the tag's page; the store reads a tag's releases as the section feeds order them.
On either database (FEEDSVC_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree, html

from feedsvc.publishing.site import Document
from tests import feedlint
from tests.conftest import BASE_URL, Newsroom, make_newsroom

ATOM = {"atom": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}
LINTERS = {
    "feed.xml": feedlint.lint_rss,
    "atom.xml": feedlint.lint_atom,
    "feed.json": feedlint.lint_json_feed,
}
EVIL = "<script>alert(1)</script>"


def release(title: str, date: str, tags: list[str], section: str = "Press Releases", extra=""):
    names = ", ".join(json.dumps(t, ensure_ascii=False) for t in tags)
    return (
        f"---\ntitle: {json.dumps(title)}\ndate: {date}\nsection: {section}\n"
        f"tags: [{names}]\n{extra}---\n{title} was said.\n"
    )


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path, languages={"zh": {"title": "外交部新闻发布"}})
    room.write("a.md", release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", "外交", EVIL]))
    room.write("b.md", release("Climate talks", "2026-11-21T10:00:00+08:00", ["trade", "Climate"]))
    room.write("c.md", release("Old news", "2026-11-01T10:00:00+08:00", ["Climate"], "Speeches"))
    room.write("d.zh.md", release("王毅会见", "2026-11-22T10:00:00+08:00", ["外交"]))
    room.write(
        "e.md",
        release(
            "Embargoed",
            "2026-12-30T09:00:00Z",
            ["Trade", "Secret"],
            extra="publish_at: 2026-12-30T09:00:00Z\n",
        ),
    )
    assert room.ingest().problems == []
    yield room
    room.store.close()


def docs(room: Newsroom) -> dict[str, Document]:
    return room.documents()


def atom(doc: Document) -> etree._Element:
    return etree.fromstring(doc.body)


def test_each_tag_has_a_page_and_three_valid_feeds(room: Newsroom) -> None:
    found = docs(room)
    for slug in ("trade", "climate", "外交", "script-alert-1-script"):
        assert f"tags/{slug}/" in found, slug
        for name, lint in LINTERS.items():
            path = f"tags/{slug}/{name}"
            assert lint(found[path].body) == [], path
    assert "zh/tags/外交/feed.xml" in found  # each language its own tags
    assert lint(found["zh/tags/外交/feed.json"].body) == []
    assert "tags/secret/" not in found  # only an embargoed release has it


def test_a_tag_feed_holds_its_releases_newest_first_with_its_own_id(room: Newsroom) -> None:
    feed = atom(docs(room)["tags/trade/atom.xml"])
    titles = feed.xpath("atom:entry/atom:title/text()", namespaces=ATOM)
    assert titles == ["Climate talks", "Trade deal"]  # 'Trade' and 'trade': one tag
    assert (
        feed.findtext("atom:id", namespaces=ATOM)
        == "tag:press.example.org,2020-01-01:feed:tag:trade"
    )
    zh = atom(docs(room)["zh/tags/外交/atom.xml"])
    assert zh.findtext("atom:id", namespaces=ATOM).endswith(":feed:tag:外交:zh")
    assert zh.xpath("atom:entry/atom:title/text()", namespaces=ATOM) == ["王毅会见"]
    english = atom(docs(room)["tags/外交/atom.xml"])
    assert english.xpath("atom:entry/atom:title/text()", namespaces=ATOM) == ["Trade deal"]


def test_categories_name_the_tag_page_in_each_format(room: Newsroom) -> None:
    found = docs(room)
    entry = atom(found["atom.xml"]).xpath("atom:entry[atom:title='Trade deal']", namespaces=ATOM)[0]
    cats = [
        (c.get("term"), c.get("scheme"), c.get("label"))
        for c in entry.findall("atom:category", ATOM)
    ]
    assert cats == [
        ("Press Releases", None, None),
        ("trade", BASE_URL + "tags/", "Trade"),
        ("外交", BASE_URL + "tags/", "外交"),
        ("script-alert-1-script", BASE_URL + "tags/", EVIL),
    ]
    rss = etree.fromstring(found["feed.xml"].body)
    item = rss.xpath("channel/item[title='Trade deal']")[0]
    cats = [(c.get("domain"), c.text) for c in item.findall("category")]
    assert cats == [
        (None, "Press Releases"),
        (BASE_URL + "tags/trade/", "Trade"),
        (BASE_URL + "tags/%E5%A4%96%E4%BA%A4/", "外交"),  # a URI
        (BASE_URL + "tags/script-alert-1-script/", EVIL),
    ]
    assert b"&#x3C;script&#x3E;" in found["feed.xml"].body  # text as the RSS profile asks
    items = json.loads(found["feed.json"].body)["items"]
    [item] = [i for i in items if i["title"] == "Trade deal"]
    assert item["tags"] == ["Press Releases", "Trade", "外交", EVIL]


def test_the_tag_page_lists_its_releases_and_discovers_its_feeds(room: Newsroom) -> None:
    page = html.fromstring(docs(room)["tags/climate/"].body)
    assert page.findtext(".//h1") == "Climate"
    assert page.xpath("//ol[@class='releases']//h2/a/text()") == ["Climate talks", "Old news"]
    feeds = page.xpath("//link[@rel='alternate' and @type]/@href")
    assert feeds == [BASE_URL + "tags/climate/" + name for name in LINTERS]
    assert page.xpath("//link[@rel='canonical']/@href") == [BASE_URL + "tags/climate/"]


def test_the_release_page_links_each_tag(room: Newsroom) -> None:
    page = html.fromstring(docs(room)["releases/a/"].body)
    links = page.xpath("//ul[@class='tags']//a")
    assert [(a.get("href"), a.text) for a in links] == [
        ("/tags/trade/", "Trade"),
        ("/tags/外交/", "外交"),
        ("/tags/script-alert-1-script/", EVIL),
    ]
    zh = html.fromstring(docs(room)["zh/releases/d/"].body)
    assert zh.xpath("//ul[@class='tags']//a/@href") == ["/zh/tags/外交/"]


def test_the_tags_page_counts_visible_releases(room: Newsroom) -> None:
    page = html.fromstring(docs(room)["tags/"].body)
    rows = [
        (li.find("a").text, li.find("a").get("href"), li.find("span").text)
        for li in page.xpath("//ul[contains(@class, 'tag-list')]/li")
    ]
    assert rows == [
        (EVIL, "/tags/script-alert-1-script/", "1 release"),
        ("Climate", "/tags/climate/", "2 releases"),
        ("trade", "/tags/trade/", "2 releases"),  # the newest spelling names it
        ("外交", "/tags/外交/", "1 release"),
    ]
    zh = html.fromstring(docs(room)["zh/tags/"].body)
    assert zh.xpath("//ul[contains(@class, 'tag-list')]/li/a/text()") == ["外交"]


def test_a_script_tag_name_is_text_everywhere(room: Newsroom) -> None:
    for path, doc in docs(room).items():
        if doc.media_type.startswith("text/html"):
            assert b"<script>alert" not in doc.body, path
        if path.endswith(("feed.xml", "atom.xml", ".opml")):
            assert b"<script>" not in doc.body, path
            etree.fromstring(doc.body)  # well-formed


def test_a_withdrawn_release_is_a_tombstone_in_its_tag_feeds(room: Newsroom) -> None:
    (room.items / "c.md").unlink()
    room.clock.advance(hours=1)
    changes = room.ingest().changes
    assert "climate" in changes.tags
    found = docs(room)
    feed = atom(found["tags/climate/atom.xml"])
    assert feed.xpath("atom:entry/atom:title/text()", namespaces=ATOM) == ["Climate talks"]
    [gone] = feed.findall("at:deleted-entry", ATOM)
    assert gone.get("ref").endswith(":release:c")
    assert feedlint.lint_atom(found["tags/climate/atom.xml"].body) == []
    assert atom(found["tags/trade/atom.xml"]).findall("at:deleted-entry", ATOM) == []


def test_a_tag_whose_releases_all_went_keeps_its_feed(room: Newsroom) -> None:
    (room.items / "d.zh.md").unlink()
    room.ingest()
    found = docs(room)
    feed = atom(found["zh/tags/外交/atom.xml"])
    assert (
        feed.findall("atom:entry", ATOM) == [] and len(feed.findall("at:deleted-entry", ATOM)) == 1
    )
    assert html.fromstring(found["zh/tags/"].body).xpath("//ul[contains(@class, 'tag-list')]") == []


def test_an_embargoed_release_joins_its_tags_when_published(room: Newsroom) -> None:
    before = docs(room)
    assert b"Embargoed" not in before["tags/trade/feed.xml"].body
    assert b"Embargoed" not in before["tags/trade/"].body
    room.clock.at = dt.datetime(2026, 12, 30, 9, 0, 1, tzinfo=dt.UTC)
    changes = room.store.releases.publish_due(room.clock.now())
    assert {"trade", "secret"} <= changes.tags
    after = docs(room)
    assert b"Embargoed" in after["tags/trade/feed.xml"].body
    assert b"Embargoed" in after["tags/trade/"].body
    assert "tags/secret/atom.xml" in after


def test_a_change_renders_only_the_tags_it_touched(room: Newsroom) -> None:
    room.write("f.md", release("New climate", "2026-11-25T10:00:00+08:00", ["Climate"]))
    changes = room.ingest().changes
    assert changes.tags == {"climate"}
    rendered = {d.path for d in room.site.changed_feeds(changes)}
    assert {f"tags/climate/{name}" for name in LINTERS} <= rendered
    assert not [p for p in rendered if p.startswith(("tags/trade/", "tags/外交/", "zh/tags/"))]


def test_store_reads_of_a_tag(room: Newsroom) -> None:
    reads = room.store.releases.in_language(None)
    assert reads.tags() == [
        ("climate", "Climate", 2),
        ("script-alert-1-script", EVIL, 1),
        ("trade", "trade", 2),
        ("外交", "外交", 1),
    ]
    assert reads.tags({"trade"}) == [("trade", "trade", 2)]
    assert [s.id for s in reads.tag_latest("climate", 10)] == ["b", "c"]
    assert [s.id for s in reads.tag_latest("climate", 1)] == ["b"]
    assert room.store.releases.in_language("zh").tags() == [("外交", "外交", 1)]
    cutoff = room.clock.now() - dt.timedelta(days=1)
    assert reads.tag_withdrawn_since(cutoff, "climate") == []


def test_an_embargoed_release_names_no_tag_in_what_is_rendered(room: Newsroom) -> None:
    """Its tags are not in Changes.tags (no public tag changed: the store's tags.py), and
    nothing public is made of a tag only it has: the tag's name is news too."""
    extra = "publish_at: 2026-12-31T09:00:00Z\n"
    room.write("m.md", release("Merger", "2026-12-31T09:00:00Z", ["Merger", "Trade"], extra=extra))
    changes = room.ingest().changes
    assert changes.tags == set()
    rendered = room.site.changed_feeds(changes)
    assert not [d.path for d in rendered if "merger" in d.path]
    assert not [d.path for d in rendered if b"Merger" in d.body]
    assert "merger" not in {slug for slug, _, _ in room.store.releases.in_language(None).tags()}


def test_hubs_hear_of_the_public_tags_a_change_touched_and_never_of_an_embargoed_one(
    room: Newsroom,
) -> None:
    from feedsvc.announce import announcer_of
    from feedsvc.config import settings_from_dict

    # Changes.tags names only what a reader could see change (the store's tags.py):
    # an embargoed release's edit and its tags ("Secret") are nobody's news yet.
    room.write(
        "e.md",
        release(
            "Embargoed, edited",
            "2026-12-30T09:00:00Z",
            ["Trade", "Secret", "Hidden"],
            extra="publish_at: 2026-12-30T09:00:00Z\n",
        ),
    )
    assert room.ingest().changes.tags == set()
    room.write("a.md", release("Trade deal, revised", "2026-11-20T10:00:00+08:00", ["Trade"]))
    changes = room.ingest().changes
    # Its old tags as well as its new ones: 外交 and the evil one lost a release.
    assert changes.tags == {"trade", "外交", "script-alert-1-script"}
    hub = "https://hub.example.org/"
    settings = settings_from_dict(
        {"site": {"base_url": BASE_URL}, "websub": {"hubs": [hub]}}, root=room.root
    )
    topics = announcer_of(settings).topics(changes)
    assert BASE_URL + "tags/trade/atom.xml" in topics
    assert BASE_URL + "tags/%E5%A4%96%E4%BA%A4/feed.xml" in topics  # as its Link header
    assert not any("secret" in t or "hidden" in t for t in topics)
