"""The feeds: structure parsed back (lxml, feedparser, json), validity, and each feedgen
workaround from DESIGN.md."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import feedparser
import pytest
from lxml import etree

from feedsvc.model import Release
from tests import feedlint
from tests.conftest import BASE_URL, SEED, SEED_ID, SEED_TITLE, Newsroom
from tests.media.pictures import encode, photo

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "at": "http://purl.org/atompub/tombstones/1.0",
    "fh": "http://purl.org/syndication/history/1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def three_releases(newsroom: Newsroom) -> None:
    newsroom.add("b.txt", "Middle", "March 2, 2021", section="Speeches")
    newsroom.add("a.txt", "Oldest", "March 1, 2021")
    newsroom.add("c.txt", "Newest <&> “quoted”", "March 3, 2021")
    newsroom.ingest()


def test_seed_reads_back_from_every_main_feed(newsroom: Newsroom) -> None:
    shutil.copy(SEED, newsroom.items / SEED.name)
    newsroom.ingest()
    docs = newsroom.documents()
    for path in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse(docs[path].body)
        assert not parsed.bozo, parsed.bozo_exception
        [entry] = parsed.entries
        assert entry.title == SEED_TITLE
        assert entry.tags[0].term == "News & Events"
        assert entry.published_parsed[:3] == (2020, 9, 11)
        html = entry.content[0].value
        assert html.count("<p>") == 5
        assert "Suggest To A Friend" not in html
        assert entry.link == f"{BASE_URL}releases/{SEED_ID}/"
    feed = json.loads(docs["feed.json"].body)
    [item] = feed["items"]
    assert item["title"] == SEED_TITLE
    assert item["tags"] == ["News & Events"]
    assert item["date_published"].startswith("2020-09-11T09:00:00+08:00")
    assert item["content_html"].count("<p>") == 5
    assert "Suggest To A Friend" not in item["content_html"]


def test_every_feed_passes_the_validator_rules(newsroom: Newsroom) -> None:
    shutil.copy(SEED, newsroom.items / SEED.name)
    three_releases(newsroom)
    (newsroom.items / "a.txt").unlink()  # a tombstone too
    newsroom.ingest()
    docs = newsroom.documents()
    feeds = [p for p in docs if p.endswith(("feed.xml", "atom.xml", "feed.json"))]
    assert {"feed.xml", "atom.xml", "feed.json", "archive/1/atom.xml"} <= set(feeds)
    assert "sections/speeches/feed.xml" in feeds
    lint = {
        "feed.xml": feedlint.lint_rss,
        "atom.xml": feedlint.lint_atom,
        "feed.json": feedlint.lint_json_feed,
    }
    for path in feeds:
        problems = lint[path.rsplit("/", 1)[-1]](docs[path].body)
        assert problems == [], (path, problems)


def test_entries_newest_first_in_every_format(newsroom: Newsroom) -> None:
    # feedgen's add_entry() prepends unless told order='append'.
    three_releases(newsroom)
    docs = newsroom.documents()
    rss = etree.fromstring(docs["feed.xml"].body)
    assert [t.text for t in rss.findall("channel/item/title")] == [
        "Newest <&> “quoted”",
        "Middle",
        "Oldest",
    ]
    atom = etree.fromstring(docs["atom.xml"].body)
    assert [t.text for t in atom.findall("atom:entry/atom:title", NS)] == [
        "Newest <&> “quoted”",
        "Middle",
        "Oldest",
    ]
    items = json.loads(docs["feed.json"].body)["items"]
    assert [i["title"] for i in items] == ["Newest <&> “quoted”", "Middle", "Oldest"]


def test_dates_come_from_the_data_not_the_clock(newsroom: Newsroom) -> None:
    # feedgen's updated/lastBuildDate default to now.
    three_releases(newsroom)
    first = newsroom.documents()
    newsroom.clock.advance(days=400)
    second = newsroom.documents()
    for path in ("feed.xml", "atom.xml", "feed.json", "archive/1/atom.xml"):
        assert first[path].body == second[path].body, path
    rss = etree.fromstring(first["feed.xml"].body)
    assert rss.findtext("channel/lastBuildDate") == "Wed, 03 Mar 2021 09:00:00 +0800"
    atom = etree.fromstring(first["atom.xml"].body)
    assert atom.findtext("atom:updated", namespaces=NS) == "2021-03-03T09:00:00+08:00"


def test_atom_entry_links_keep_rel_and_type(newsroom: Newsroom) -> None:
    # feedgen issue 135: entry links lose rel and type.
    three_releases(newsroom)
    atom = etree.fromstring(newsroom.documents()["atom.xml"].body)
    links = atom.findall("atom:entry/atom:link", NS)
    assert len(links) == 3
    for link in links:
        assert link.get("rel") == "alternate"
        assert link.get("type") == "text/html"
        assert link.get("href").startswith(f"{BASE_URL}releases/")


def test_atom_content_is_escaped_html_not_cdata(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    body = newsroom.documents()["atom.xml"].body
    assert b"<![CDATA[" not in body
    atom = etree.fromstring(body)
    content = atom.find("atom:entry/atom:content", NS)
    assert content.get("type") == "html"
    assert content.text.startswith("<p>On March 3, 2021")


def test_rss_channel_link_is_the_site_and_self_is_atom_link(newsroom: Newsroom) -> None:
    # The RSS channel <link> is the last link given to feedgen.
    three_releases(newsroom)
    rss = etree.fromstring(newsroom.documents()["feed.xml"].body)
    assert rss.findtext("channel/link") == BASE_URL
    [self_link] = rss.xpath("channel/atom:link[@rel='self']", namespaces=NS)
    assert self_link.get("href") == f"{BASE_URL}feed.xml"
    assert self_link.get("type") == "application/rss+xml"


def test_rss_keeps_links_feedgen_drops(newsroom: Newsroom) -> None:
    # feedgen writes only one atom:link (self) into RSS; archive links must survive.
    three_releases(newsroom)
    rss = etree.fromstring(newsroom.documents()["feed.xml"].body)
    [prev] = rss.xpath("channel/atom:link[@rel='prev-archive']", namespaces=NS)
    assert prev.get("href") == f"{BASE_URL}archive/1/feed.xml"


def test_rss_item_fields(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    rss = etree.fromstring(newsroom.documents()["feed.xml"].body)
    item = rss.find("channel/item")
    guid = item.find("guid")
    assert guid.get("isPermaLink") == "false"
    assert guid.text == "tag:press.example.org,2021-03-03:release:c"
    assert item.findtext("pubDate") == "Wed, 03 Mar 2021 09:00:00 +0800"
    assert item.findtext("description").startswith("On March 3, 2021")
    assert item.findtext("content:encoded", namespaces=NS).startswith("<p>")
    assert item.findtext("category") == "Press Releases"
    assert item.findtext("dc:creator", namespaces=NS) == "Press Office"
    channel = rss.find("channel")
    assert channel.findtext("ttl") == "15"
    assert channel.findtext("language") == "en"


def test_feeds_reference_the_xslt_stylesheet(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    docs = newsroom.documents()
    for path in ("feed.xml", "atom.xml"):
        pi = etree.fromstring(docs[path].body).getroottree().getroot().getprevious()
        assert pi is not None and pi.target == "xml-stylesheet"
        assert pi.get("href") == f"{BASE_URL}assets/feed.xsl"
    assert docs["assets/feed.xsl"].body.startswith(b"<?xml")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Release(
            id="x",
            title="t",
            section="s",
            published=dt.datetime(2020, 1, 1),
            body_html="",
            summary="",
            language="en",
            source="x.txt",
            content_hash="h",
        )


def test_tombstone_for_a_withdrawn_release_then_it_expires(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    (newsroom.items / "b.txt").unlink()
    newsroom.clock.advance(hours=1)
    newsroom.ingest()
    withdrawn_at = newsroom.clock.now()
    docs = newsroom.documents()
    atom = etree.fromstring(docs["atom.xml"].body)
    [gone] = atom.findall("at:deleted-entry", NS)
    assert gone.get("ref") == "tag:press.example.org,2021-03-02:release:b"
    assert dt.datetime.fromisoformat(gone.get("when")) == withdrawn_at
    assert "Middle" not in docs["feed.xml"].body.decode()
    assert "Middle" not in docs["feed.json"].body.decode()
    assert "releases/b/" not in docs  # its page is gone from the export
    # The section feed it was in carries the tombstone too.
    section = etree.fromstring(docs["sections/speeches/atom.xml"].body)
    assert len(section.findall("at:deleted-entry", NS)) == 1
    # The feed changed, so its updated moved to the withdrawal.
    assert (
        atom.findtext("atom:updated", namespaces=NS)
        == withdrawn_at.astimezone(newsroom.settings.site.tz).isoformat()
    )

    newsroom.clock.advance(days=30, seconds=1)
    body = newsroom.documents()["atom.xml"].body
    assert etree.fromstring(body).findall("at:deleted-entry", NS) == []
    # The W3C validator knows no RFC 6721: only a document with a tombstone declares it.
    assert NS["at"].encode() not in body
    assert NS["at"].encode() in docs["atom.xml"].body


def _follow_archives(docs: dict, filename: str) -> list[str]:
    """Every entry id reachable from the main feed through prev-archive links."""
    seen: list[str] = []
    path = filename
    while path:
        tree = etree.fromstring(docs[path].body)
        if filename == "atom.xml":
            seen += tree.xpath("atom:entry/atom:id/text()", namespaces=NS)
            prev = tree.xpath("atom:link[@rel='prev-archive']/@href", namespaces=NS)
        else:
            seen += tree.xpath("channel/item/guid/text()")
            prev = tree.xpath("channel/atom:link[@rel='prev-archive']/@href", namespaces=NS)
        path = prev[0].removeprefix(BASE_URL) if prev else ""
    return seen


def test_archives_hold_the_complete_history_and_full_pages_never_change(tmp_path) -> None:
    from tests.conftest import make_newsroom

    room = make_newsroom(tmp_path, feeds={"limit": 3, "archive_page_size": 4})
    for day in range(1, 11):
        room.add(f"r{day:02}.txt", f"Release {day}", f"March {day}, 2021")
    room.ingest()
    docs = room.documents()
    assert sorted(p for p in docs if p.startswith("archive/") and p.endswith("atom.xml")) == [
        "archive/1/atom.xml",
        "archive/2/atom.xml",
        "archive/3/atom.xml",
    ]
    for filename in ("atom.xml", "feed.xml"):
        ids = _follow_archives(docs, filename)
        assert len(set(ids)) == 10  # every release, main feed and archives together
    page1 = etree.fromstring(docs["archive/1/atom.xml"].body)
    assert page1.find("fh:archive", NS) is not None
    assert page1.xpath("atom:link[@rel='current']/@href", namespaces=NS) == [f"{BASE_URL}atom.xml"]
    assert page1.xpath("atom:link[@rel='next-archive']/@href", namespaces=NS) == [
        f"{BASE_URL}archive/2/atom.xml"
    ]
    main_json = json.loads(docs["feed.json"].body)
    assert main_json["next_url"] == f"{BASE_URL}archive/3/feed.json"

    # Three more releases, one dated in the past, opening page 4: full pages 1 and 2
    # do not change.
    room.add("r11.txt", "Release 11", "March 11, 2021")
    room.add("r12.txt", "Release 12", "March 12, 2021")
    room.add("r00.txt", "Backdated", "January 1, 2020")
    result = room.ingest()
    after = room.documents()
    assert "archive/4/atom.xml" in after
    for page in ("archive/1/atom.xml", "archive/2/feed.xml", "archive/2/feed.json"):
        assert after[page].body == docs[page].body, page
    changed = {d.path for d in room.site.changed_feeds(result.changes)}
    assert "archive/1/atom.xml" not in changed
    assert {
        "feed.xml",
        "atom.xml",
        "feed.json",
        "archive/3/atom.xml",
        "archive/4/atom.xml",
    } <= changed
    for doc in room.site.changed_feeds(result.changes):
        assert after[doc.path].body == doc.body
    room.store.close()


def test_section_feeds_hold_only_their_section(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    docs = newsroom.documents()
    speeches = json.loads(docs["sections/speeches/feed.json"].body)
    assert [i["title"] for i in speeches["items"]] == ["Middle"]
    assert speeches["feed_url"] == f"{BASE_URL}sections/speeches/feed.json"
    assert speeches["home_page_url"] == f"{BASE_URL}sections/speeches/"
    press = etree.fromstring(docs["sections/press-releases/feed.xml"].body)
    assert len(press.findall("channel/item")) == 2


def test_relative_links_in_markdown_become_absolute(newsroom: Newsroom) -> None:
    newsroom.write(
        "m.md",
        '+++\ntitle = "M"\ndate = 2021-03-01\nsection = "S"\n+++\n'
        "See [the annex](../annex/) and ![map](map.png) and [top](#top).\n",
    )
    # A picture the text names must exist (issue 14); a Site without media leaves its tag.
    newsroom.write("map.png", encode(photo((64, 48)), "PNG"))
    newsroom.ingest()
    item = json.loads(newsroom.documents()["feed.json"].body)["items"][0]
    assert f'href="{BASE_URL}releases/annex/"' in item["content_html"]
    assert f'src="{BASE_URL}releases/m/map.png"' in item["content_html"]
    assert 'href="#top"' in item["content_html"]


def test_json_feed_structure(newsroom: Newsroom) -> None:
    three_releases(newsroom)
    feed = json.loads(newsroom.documents()["feed.json"].body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"{BASE_URL}feed.json"
    assert feed["home_page_url"] == BASE_URL
    assert feed["authors"] == [{"name": "Press Office"}]
    item = feed["items"][0]
    assert set(item) >= {
        "id",
        "url",
        "title",
        "content_html",
        "summary",
        "date_published",
        "date_modified",
        "tags",
    }


def test_a_change_renders_the_archive_page_before_only_when_it_opens_a_page(tmp_path) -> None:
    """Issue 18: a new release re-renders its own archive page, and the page before only
    when it is the first on its page (the page before gains its next-archive link). After
    every change, the archive pages as the changes left them are a full render's."""
    from tests.conftest import make_newsroom

    room = make_newsroom(tmp_path, feeds={"limit": 2, "archive_page_size": 3})
    try:
        room.add("r01.txt", "Release 1", "March 1, 2021")
        room.ingest()
        served = {p: d.body for p, d in room.documents().items() if p.startswith("archive/")}
        rendered: list[list[str]] = []
        for day in range(2, 9):  # seqs 2..8: pages 2 and 3 open at seqs 4 and 7
            room.add(f"r{day:02}.txt", f"Release {day}", f"March {day}, 2021")
            changes = room.ingest().changes
            docs = room.site.changed_feeds(changes)
            pages = sorted({d.path.split("/")[1] for d in docs if d.path.startswith("archive/")})
            rendered.append(pages)
            served |= {d.path: d.body for d in docs if d.path.startswith("archive/")}
            full = {p: d.body for p, d in room.documents().items() if p.startswith("archive/")}
            assert served == full, f"after release {day}"
    finally:
        room.store.close()
    assert rendered == [["1"], ["1"], ["1", "2"], ["2"], ["2"], ["2", "3"], ["3"]]
