"""Pictures and attachments on the release page (issue 14): figures with srcset, sizes,
width, height, alt and lazy loading; the downloads list; og:image and the large Twitter
card; every text a press office wrote escaped; the Nu Html Checker on the page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from feedsvc.build import site_of
from feedsvc.media import MediaCache
from feedsvc.publishing.figures import SIZES, Figure, with_figures
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.release_files import size_label
from tests import feedlint, npm
from tests.conftest import BASE_URL, Newsroom
from tests.media.pictures import encode, photo
from tests.publishing.media_corpus import (
    ALT,
    CAPTION,
    CREDIT,
    DETAIL_ALT,
    PDF,
    STATEMENT_TITLE,
    MediaRoom,
    make_media_room,
)
from tests.publishing.test_html_valid import nu_messages

PATH = "/releases/signing/"


@pytest.fixture
def room(newsroom: Newsroom, tmp_path: Path) -> MediaRoom:
    return make_media_room(newsroom, tmp_path / "media-cache")


@pytest.fixture
def page(room: MediaRoom) -> bytes:
    return room.site().default.release_page(room.newsroom.store.releases.get("signing")).body


def names(room: MediaRoom, ref: str) -> list[str]:
    return [v.name for v in room.media.widths(room.refs[ref])]


def test_the_lead_picture_is_a_figure_at_the_top(room: MediaRoom, page: bytes) -> None:
    tree = lxml_html.fromstring(page)
    article = tree.find(".//article")
    lead = article.find("figure")  # a child of the article, above the text
    assert lead is not None and lead.getnext().get("class") == "body"
    img = lead.find("img")
    widths = names(room, "photo")
    assert [n.rsplit("-", 1)[1] for n in widths] == [
        "480w.jpg",
        "800w.jpg",
        "1200w.jpg",
        "1600w.jpg",
    ]
    assert img.get("src") == PATH + widths[-1]
    assert img.get("srcset") == ", ".join(
        f"{PATH}{n} {n.rsplit('-', 1)[1].split('w')[0]}w" for n in widths
    )
    assert img.get("sizes") == SIZES
    assert (img.get("width"), img.get("height")) == ("1600", "1200")
    assert img.get("alt") == ALT
    # The first picture is the page's largest paint: not lazy.
    assert (img.get("loading"), img.get("decoding")) == ("eager", "async")
    caption = lead.find("figcaption")
    assert caption.text_content() == f"{CAPTION} Photo: {CREDIT}"
    assert caption.find("span").get("class") == "credit"


def test_a_picture_in_the_text_becomes_the_same_figure(room: MediaRoom, page: bytes) -> None:
    body = lxml_html.fromstring(page).find_class("body")[0]
    [figure] = body.findall("figure")
    img = figure.find("img")
    widths = names(room, "detail")
    assert img.get("src") == PATH + widths[-1]
    assert len(img.get("srcset").split(", ")) == len(widths)
    assert (img.get("width"), img.get("height")) == ("900", "600")
    assert img.get("alt") == DETAIL_ALT
    assert (img.get("loading"), img.get("decoding")) == ("lazy", "async")
    assert figure.findtext("figcaption") == "The seal"  # the Markdown title
    assert body.findall(".//p/figure") == []  # a figure never sits inside a paragraph
    assert body.find(".//a").get("href") == "statement.pdf"  # as written


def test_attachments_are_listed_as_downloads(page: bytes) -> None:
    section = lxml_html.fromstring(page).find_class("downloads")[0]
    assert section.findtext("h2") == "Downloads"
    [item] = section.findall(".//li")
    link = item.find("a")
    assert link.get("href") == PATH + "statement.pdf"
    assert link.get("type") == "application/pdf"
    assert link.text == STATEMENT_TITLE
    assert item.find_class("file-info")[0].text == f"PDF, {size_label(len(PDF))}"
    assert size_label(len(PDF)) == "1.6 kB"


def test_og_image_is_the_absolute_social_card(room: MediaRoom, page: bytes) -> None:
    tree = lxml_html.fromstring(page)

    def meta(key: str) -> list[str]:
        found = tree.xpath("//meta[@property=$k or @name=$k]/@content", k=key)
        return [str(value) for value in found]

    card = room.media.card(room.refs["photo"])
    assert meta("og:image") == [f"{BASE_URL}releases/signing/{card.name}"]
    assert (meta("og:image:width"), meta("og:image:height")) == (["1200"], ["630"])
    assert meta("og:image:alt") == [ALT]
    assert meta("twitter:card") == ["summary_large_image"]
    assert meta("twitter:image") == meta("og:image")
    # What the card URL serves is that size.

    served = room.served("photo", card.name)
    assert Image.open(io.BytesIO(served)).size == (1200, 630)


def test_every_text_a_press_office_wrote_is_escaped(page: bytes) -> None:
    text = page.decode()
    for raw in ("<the>", '"signs"', "<2026>", "& J.", '"final"', "<PDF>"):
        assert raw not in text, raw
    # The alt in the figure, og:image:alt and twitter:image:alt; the caption and the credit.
    assert text.count("&lt;the&gt; accord &amp; more") == 3
    assert "Signing, 5 December &lt;2026&gt;" in text and "Ministry &amp; J. Doe" in text


def test_pages_without_files_keep_their_bytes(room: MediaRoom) -> None:
    with_media, without = room.documents(), room.documents(with_media=False)
    assert with_media["releases/plain/"].body == without["releases/plain/"].body
    assert b"og:image" not in with_media["releases/plain/"].body
    # The template's new blocks leave no trace: the seams around them as they were before.
    plain = with_media["releases/plain/"].body
    assert b'<meta name="twitter:card" content="summary">\n<meta name="twitter:title"' in plain
    assert b'</time></p>\n  <div class="body">' in plain
    assert b'  </div>\n  <section class="share"' in plain
    # Without a ReleaseMedia (callers before issue 14) the text is left as it was written.
    assert b'<img src="detail.png"' in without["releases/signing/"].body


def test_only_pictures_of_the_release_are_rewritten() -> None:
    figure = Figure("/p-800w.jpg", (("/p-480w.jpg", 480), ("/p-800w.jpg", 800)), 800, 600, "a")
    body = (
        '<p>Inline <img src="p.jpg" alt="x &quot;y&quot; &lt;z&gt;"> here.</p>\n'
        '<p><img src="other.jpg" alt="other"></p>\n'
        '<p><img alt="o" src="./p.jpg" title="&quot;&gt;&lt;script&gt;"></p>'
    )
    out = with_figures(body, {"p.jpg": figure}, first_eager=False)
    tree = lxml_html.fromstring(f"<div>{out}</div>")
    first, other, last = tree.iter("img")
    assert first.getparent().tag == "p" and first.get("srcset")  # inside text: no figure
    assert first.get("alt") == 'x "y" <z>' and first.get("loading") == "lazy"
    assert other.get("srcset") is None  # not one of the release's pictures: as written
    assert last.getparent().tag == "figure"
    assert last.getparent().findtext("figcaption") == '"><script>'
    assert "<script>" not in out


@pytest.mark.parametrize(
    ("size", "label"),
    [(1, "1 byte"), (812, "812 bytes"), (1000, "1.0 kB"), (48_213, "48.2 kB"), (1_234_567, "1.2 MB"),
     (999_999, "1.0 MB"), (250_000_000, "250 MB"), (3_100_000_000, "3.1 GB")],
)  # fmt: skip
def test_sizes_read_as_people_write_them(size: int, label: str) -> None:
    assert size_label(size) == label


@pytest.mark.parametrize(
    ("language", "size", "label"),
    [("zh", 812, "812字节"), ("fr", 1_234_567, "1,2\u202fMo"), ("ru", 48_213, "48,2 кБ")],
)
def test_sizes_read_as_people_of_the_page_s_language_write_them(
    language: str, size: int, label: str
) -> None:
    assert size_label(size, language) == label  # CLDR through Babel (issue 15)


@pytest.mark.sqlite_only
def test_the_release_page_with_pictures_passes_the_nu_html_checker(
    page: bytes, tmp_path: Path
) -> None:
    home = npm.tools()
    file = tmp_path / "signing.html"
    file.write_bytes(page)
    assert nu_messages(home, [file]) == []


def test_end_to_end_from_an_items_bundle(newsroom: Newsroom, tmp_path: Path) -> None:
    """Written as a press office writes it (a bundle with front matter and Markdown), read
    by the reader, stored, and shown: the page's figures and downloads, the feeds' files."""

    newsroom.write(
        "signing/index.md",
        '+++\ntitle = "Accord signed"\ndate = 2026-12-05T09:00:00+08:00\nsection = "News"\n'
        'image = { src = "lead.jpg", alt = "The signing <table>", caption = "Signed",'
        ' credit = "Ministry" }\n+++\n'
        "The minister signed.\n\n"
        '![Pens & ink](pens.png "The pens")\n\n'
        "Read the [Full statement](statement.pdf).\n",
    )
    newsroom.write("signing/lead.jpg", encode(photo((1300, 900)), "JPEG", quality=85))
    newsroom.write("signing/pens.png", encode(photo((500, 400)), "PNG"))
    newsroom.write("signing/statement.pdf", PDF)
    assert newsroom.ingest().problems == []
    s = newsroom.settings
    media = ReleaseMedia(newsroom.items, MediaCache(tmp_path / "cache"))
    site = site_of(s, newsroom.store.releases, newsroom.clock, media)
    docs = {doc.path: doc for doc in site.documents()}
    tree = lxml_html.fromstring(docs["releases/signing/"].body)
    lead, pens = tree.findall(".//figure/img")
    assert lead.get("alt") == "The signing <table>" and lead.get("width") == "1300"
    assert pens.get("alt") == "Pens & ink" and pens.get("loading") == "lazy"
    assert [a.text for a in tree.find_class("downloads")[0].iter("a")] == ["Full statement"]
    stored = newsroom.store.releases.get("signing")
    assert stored is not None
    shown = media.for_feeds(stored.release.lead_image)
    [enclosure] = etree_items(docs["feed.xml"].body)
    found = media.find(stored.release, shown.name)
    assert found is not None
    assert enclosure.get("length") == str(len(media.bytes_of(found)))
    assert feedlint.lint_rss(docs["feed.xml"].body) == []
    assert feedlint.lint_atom(docs["atom.xml"].body) == []


def etree_items(body: bytes) -> list:

    return etree.fromstring(body).findall("channel/item/enclosure")
