"""Pictures and attachments in the feeds (issue 14): RSS <enclosure> and Media RSS, Atom
rel="enclosure" links, JSON Feed `image` and `attachments`; every URL absolute, every length
the byte count of what the URL serves; the W3C rules (tests/feedlint.py) and feedparser."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedsvc.publishing.feed import absolute_links
from tests import feedlint
from tests.conftest import BASE_URL, Newsroom
from tests.publishing.media_corpus import (
    ALT,
    DETAIL_ALT,
    NOW,
    PDF,
    STATEMENT_TITLE,
    TZ,
    MediaRoom,
    make_media_room,
)

MRSS = "http://search.yahoo.com/mrss/"
ATOM = "http://www.w3.org/2005/Atom"
RELEASE_URL = f"{BASE_URL}releases/signing/"


@pytest.fixture
def room(newsroom: Newsroom, tmp_path: Path) -> MediaRoom:
    return make_media_room(newsroom, tmp_path / "media-cache")


@pytest.fixture
def docs(room: MediaRoom) -> dict:
    return room.documents()


def items(body: bytes) -> dict[str, etree._Element]:
    channel = etree.fromstring(body).find("channel")
    return {item.findtext("link").split("/")[-2]: item for item in channel.iterfind("item")}


def widest(room: MediaRoom, ref: str) -> str:
    return room.media.for_feeds(room.refs[ref]).name


def test_rss_encloses_the_lead_picture_with_the_length_served(room: MediaRoom, docs: dict) -> None:
    root = etree.fromstring(docs["feed.xml"].body)
    assert root.nsmap["media"] == MRSS
    signing = items(docs["feed.xml"].body)["signing"]
    [enclosure] = signing.findall("enclosure")
    name = widest(room, "photo")
    assert name.endswith("-1200w.jpg")  # media.FEED_WIDTH: what readers show, not the 1600w
    assert enclosure.get("url") == RELEASE_URL + name
    assert enclosure.get("type") == "image/jpeg"
    assert int(enclosure.get("length")) == len(room.served("photo", name))
    # ... and what the picture's own name serves is its widest variant, re-encoded.
    widest_name = room.media.widest(room.refs["photo"]).name
    assert widest_name.endswith("-1600w.jpg")
    assert room.served("photo", "photo.jpg") == room.served("photo", widest_name)


def test_media_rss_describes_every_picture_lead_first(room: MediaRoom, docs: dict) -> None:
    signing = items(docs["feed.xml"].body)["signing"]
    contents = signing.findall(f"{{{MRSS}}}content")
    assert [c.get("url") for c in contents] == [
        RELEASE_URL + widest(room, "photo"),
        RELEASE_URL + widest(room, "detail"),
    ]
    lead, detail = contents
    assert lead.attrib == {
        "url": RELEASE_URL + widest(room, "photo"),
        "type": "image/jpeg",
        "medium": "image",
        "width": "1200",
        "height": "900",
        "fileSize": str(len(room.served("photo", widest(room, "photo")))),
    }
    assert detail.get("type") == "image/jpeg"  # an opaque PNG's variants are JPEG (media.plan)
    assert int(detail.get("fileSize")) == len(room.served("detail", widest(room, "detail")))
    thumbnail = lead.find(f"{{{MRSS}}}thumbnail")
    narrowest = room.media.widths(room.refs["photo"])[0]
    assert thumbnail.attrib == {
        "url": RELEASE_URL + narrowest.name,
        "width": "480",
        "height": "360",
    }
    description = lead.find(f"{{{MRSS}}}description")
    # The alt text looks like markup to a reader ("<the>"): declared HTML, shown as written.
    assert description.get("type") == "html"
    assert feedparser.parse(docs["feed.xml"].body).entries[0].media_content[0]["url"] == (
        RELEASE_URL + widest(room, "photo")
    )
    assert detail.find(f"{{{MRSS}}}description").attrib == {"type": "plain"}
    assert detail.findtext(f"{{{MRSS}}}description") == DETAIL_ALT


def test_without_pictures_the_enclosure_is_the_first_attachment(
    room: MediaRoom, docs: dict
) -> None:
    report = items(docs["feed.xml"].body)["report"]
    [enclosure] = report.findall("enclosure")
    assert enclosure.attrib == {
        "url": f"{BASE_URL}releases/report/report.pdf",
        "length": str(len(PDF) + 1),
        "type": "application/pdf",
    }
    assert report.findall(f"{{{MRSS}}}content") == []
    plain = items(docs["feed.xml"].body)["plain"]
    assert plain.findall("enclosure") == [] and plain.findall(f"{{{MRSS}}}*") == []


def test_atom_links_every_file_as_an_enclosure(room: MediaRoom, docs: dict) -> None:
    feed = etree.fromstring(docs["atom.xml"].body)
    entry = next(
        e for e in feed.iterfind(f"{{{ATOM}}}entry") if "signing" in e.findtext(f"{{{ATOM}}}id")
    )
    links = [dict(link.attrib) for link in entry.iterfind(f"{{{ATOM}}}link")]
    enclosures = [link for link in links if link["rel"] == "enclosure"]
    assert enclosures == [
        {
            "rel": "enclosure",
            "href": RELEASE_URL + widest(room, "photo"),
            "type": "image/jpeg",
            "length": str(len(room.served("photo", widest(room, "photo")))),
            "title": ALT,
        },
        {
            "rel": "enclosure",
            "href": RELEASE_URL + widest(room, "detail"),
            "type": "image/jpeg",
            "length": str(len(room.served("detail", widest(room, "detail")))),
            "title": DETAIL_ALT,
        },
        {
            "rel": "enclosure",
            "href": RELEASE_URL + "statement.pdf",
            "type": "application/pdf",
            "length": str(len(PDF)),
            "title": STATEMENT_TITLE,
        },
    ]
    assert len(room.served("statement", "statement.pdf")) == len(PDF)
    parsed = feedparser.parse(docs["atom.xml"].body)
    assert not parsed.bozo
    found = next(e for e in parsed.entries if "signing" in e.id)
    assert [e["href"] for e in found.enclosures] == [e["href"] for e in enclosures]


def test_json_feed_has_the_image_and_the_attachments(room: MediaRoom, docs: dict) -> None:
    feed = json.loads(docs["feed.json"].body)
    by_id = {item["url"].split("/")[-2]: item for item in feed["items"]}
    signing = by_id["signing"]
    assert signing["image"] == RELEASE_URL + widest(room, "photo")
    assert signing["attachments"] == [
        {
            "url": RELEASE_URL + "statement.pdf",
            "mime_type": "application/pdf",
            "title": STATEMENT_TITLE,
            "size_in_bytes": len(PDF),
        }
    ]
    assert "image" not in by_id["report"] and len(by_id["report"]["attachments"]) == 1
    assert "image" not in by_id["plain"] and "attachments" not in by_id["plain"]


def test_feed_content_shows_the_figures_with_absolute_urls(room: MediaRoom, docs: dict) -> None:
    feed = json.loads(docs["feed.json"].body)
    content = next(i for i in feed["items"] if "signing" in i["url"])["content_html"]
    tree = etree.HTML(content)
    figures = tree.findall(".//figure")
    assert len(figures) == 2  # the lead (front matter) above the text, the text's own
    lead, detail = (figure.find("img") for figure in figures)
    assert lead.get("alt") == ALT and lead.get("loading") == "eager"
    assert detail.get("alt") == DETAIL_ALT and detail.get("loading") == "lazy"
    for img in (lead, detail):
        assert img.get("src").startswith(RELEASE_URL)
        urls = [c.split()[0] for c in img.get("srcset").split(", ")]
        assert urls and all(url.startswith(RELEASE_URL) for url in urls)
    assert figures[1].findtext("figcaption") == "The seal"
    assert tree.find(".//a").get("href") == RELEASE_URL + "statement.pdf"


def test_every_feed_with_files_passes_the_validator_rules(docs: dict) -> None:
    lint = {"feed.xml": feedlint.lint_rss, "atom.xml": feedlint.lint_atom}
    lint["feed.json"] = feedlint.lint_json_feed
    checked = 0
    for path, doc in docs.items():
        name = path.rsplit("/", 1)[-1]
        if name in lint:
            assert lint[name](doc.body) == [], path
            checked += 1
    assert checked >= 9  # main, section, archive: three formats each


def test_feeds_without_files_keep_their_bytes(room: MediaRoom) -> None:
    room.newsroom.store.releases.sync([], ["signing/index.md", "report/index.md"], NOW, TZ)
    with_media = room.documents()
    without = room.documents(with_media=False)
    feeds = [p for p in with_media if p.endswith(("feed.xml", "atom.xml", "feed.json"))]
    assert feeds and all(with_media[p].body == without[p].body for p in feeds)
    assert b"search.yahoo.com/mrss" not in with_media["feed.xml"].body
    assert with_media["releases/plain/"].body == without["releases/plain/"].body


def test_absolute_links_resolves_every_srcset_candidate() -> None:
    html = (
        '<img src="a-800w.jpg" srcset="a-480w.jpg 480w, a-800w.jpg 800w, https://x.org/b.jpg 2x">'
    )
    assert absolute_links(html, RELEASE_URL) == (
        f'<img src="{RELEASE_URL}a-800w.jpg" srcset="{RELEASE_URL}a-480w.jpg 480w, '
        f'{RELEASE_URL}a-800w.jpg 800w, https://x.org/b.jpg 2x">'
    )


# --- feedlint's enclosure and Media RSS rules (the W3C validator's) ---------------------------

RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
    'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">'
    "<channel><title>T</title><link>https://e.org/</link><description>D</description>"
    '<atom:link href="https://e.org/feed.xml" rel="self" type="application/rss+xml"/>'
    '<item><title>I</title><guid isPermaLink="false">tag:e.org,2026:1</guid>{}</item>'
    "</channel></rss>"
)


@pytest.mark.parametrize(
    ("inside", "rule"),
    [
        ('<enclosure url="https://e.org/a.jpg" length="12" type="image/jpeg"/>', None),
        ('<enclosure url="https://e.org/a.jpg" length="1.5" type="image/jpeg"/>', "InvalidIntegerAttribute"),
        ('<enclosure url="https://e.org/a.jpg" type="image/jpeg"/>', "MissingAttribute"),
        ('<enclosure url="https://e.org/a.jpg" length="12"/>', "MissingAttribute"),
        ('<enclosure url="a.jpg" length="12" type="image/jpeg"/>', "InvalidFullLink"),
        ('<enclosure url="https://e.org/a.jpg" length="1" type="image/jpeg"/>' * 2, "DuplicateEnclosure"),
        ('<media:content url="https://e.org/a.jpg" medium="image" fileSize="9" width="4"/>', None),
        ('<media:content url="https://e.org/a.jpg" fileSize="nine"/>', "InvalidIntegerAttribute"),
        ('<media:content url="https://e.org/a.jpg" medium="photo"/>', "InvalidMediaMedium"),
        ('<media:content url="/a.jpg"/>', "InvalidFullLink"),
        ('<media:content url="https://e.org/a.jpg" alt="x"/>', "UnexpectedAttribute"),
        ('<media:content url="https://e.org/a.jpg"><media:thumbnail width="4"/></media:content>', "MissingAttribute"),
        ('<media:thumbnail url="https://e.org/t.jpg" height="0"/>', "InvalidPositiveInteger"),
    ],
)  # fmt: skip
def test_feedlint_checks_enclosures_and_media_rss(inside: str, rule: str | None) -> None:
    problems = feedlint.lint_rss(RSS.format(inside).encode())
    assert [p.rsplit("[", 1)[1].rstrip("]") for p in problems] == ([rule] if rule else [])


ATOM_FEED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    "<id>tag:e.org,2026:f</id><title>T</title><updated>2026-01-01T00:00:00Z</updated>"
    '<author><name>A</name></author><link href="https://e.org/atom.xml" rel="self"/>'
    '<link href="https://e.org/"/><entry><id>tag:e.org,2026:1</id><title>I</title>'
    "<updated>2026-01-01T00:00:00Z</updated><summary>S</summary>"
    '<link href="https://e.org/1"/>{}</entry></feed>'
)


@pytest.mark.parametrize(
    ("link", "rule"),
    [
        ('<link rel="enclosure" href="https://e.org/a.pdf" type="application/pdf" length="3"/>', None),
        ('<link rel="enclosure" href="https://e.org/a.pdf" type="application/pdf" length="-3"/>', "InvalidNonNegativeInteger"),
    ],
)  # fmt: skip
def test_feedlint_checks_atom_enclosure_lengths(link: str, rule: str | None) -> None:
    problems = feedlint.lint_atom(ATOM_FEED.format(link).encode())
    assert [p.rsplit("[", 1)[1].rstrip("]") for p in problems] == ([rule] if rule else [])


def test_a_picture_replaced_since_it_was_read_is_left_out_not_fatal(room: MediaRoom) -> None:
    # The file under items/ changed after the release was read (the rescan will follow):
    # its variants cannot be made from the bytes read, so the feeds render without it.
    (room.newsroom.items / "signing/photo.jpg").write_bytes(b"not the photo any more")
    docs = room.documents()
    signing = items(docs["feed.xml"].body)["signing"]
    urls = [c.get("url") for c in signing.findall(f"{{{MRSS}}}content")]
    assert urls == [RELEASE_URL + widest(room, "detail")]
    assert feedlint.lint_rss(docs["feed.xml"].body) == []
