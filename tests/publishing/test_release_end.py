"""How a release ends (issue 17 item 5): notes to editors, "About" the press office and the
media contact, on the release page and in every feed's entry, escaped, their URLs and email
addresses usable links; the Chinese release ends with the Chinese boilerplate; an unknown
contact is the reader's error at its line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from lxml import etree, html

from feedsvc.build import site_of
from feedsvc.config.contacts import Contact
from feedsvc.publishing.release_end import linked, mailto
from tests import feedlint
from tests.conftest import Newsroom
from tests.publishing.release_end_corpus import (
    BOILERPLATE,
    CONTACT,
    ENDED,
    ZH,
    ZH_BOILERPLATE,
    ended_newsroom,
    write_ended,
)


@pytest.fixture
def ended(tmp_path: Path) -> Newsroom:
    room = ended_newsroom(tmp_path)
    write_ended(room)
    assert room.ingest().problems == []
    yield room
    room.store.close()


def _end(page: bytes) -> html.HtmlElement:
    tree = html.fromstring(page)
    (end,) = tree.xpath("//article/footer[@class='release-end']")
    return end


def test_plain_text_is_escaped_and_its_urls_and_addresses_linked() -> None:
    said = linked("See https://example.org/a?b=1&c=2. Or <b>x</b>@ y, mail a.b+c@example.org!")
    assert str(said) == (
        'See <a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>.'
        " Or &lt;b&gt;x&lt;/b&gt;@ y, mail"
        ' <a href="mailto:a.b+c@example.org">a.b+c@example.org</a>!'
    )
    # An attribute cannot be opened from the text: the quote ends the URL.
    said = str(linked('https://example.org/"onmouseover="x'))
    assert said.startswith('<a href="https://example.org/">https://example.org/</a>&#34;on')
    # RFC 6068: a '?' or '%' in a mailbox is not a query.
    assert mailto("a?b%c@example.org") == "mailto:a%3Fb%25c@example.org"


def test_the_page_ends_with_notes_about_and_contact_in_that_order(ended: Newsroom) -> None:
    end = _end(ended.documents()[f"releases/{ENDED}/"].body)
    assert [s.get("class") for s in end.findall("section")] == [
        "notes-to-editors",
        "about",
        "media-contact",
    ]
    notes = end.xpath(".//section[@class='notes-to-editors']/ol/li")  # two notes: a numbered list
    assert len(notes) == 2
    assert notes[0].find("a").get("href") == "https://example.org/photos/2026-11-27"
    assert notes[1].find("a").get("href") == "mailto:desk@example.org"
    assert "<b>before</b>" in notes[1].text_content()  # the text's markup, as text
    about = end.xpath(".//section[@class='about']/p")
    assert about[0].text_content() == BOILERPLATE.split("\n\n")[0]
    assert about[1].find("a").get("href") == "https://example.org/about"
    links = {a.get("href") for a in end.xpath(".//section[@class='media-contact']/address/a")}
    assert links == {"mailto:press@example.org", "tel:+861065961114"}
    text = end.xpath(".//section[@class='media-contact']/address")[0].text_content()
    assert CONTACT["name"] in text and CONTACT["role"] in text and CONTACT["phone"] in text


def test_one_note_is_a_paragraph_and_the_chinese_release_has_the_chinese_boilerplate(
    ended: Newsroom,
) -> None:
    end = _end(ended.documents()[f"zh/releases/{ZH}/"].body)
    assert end.xpath(".//section[@class='notes-to-editors']/ol") == []
    (note,) = end.xpath(".//section[@class='notes-to-editors']/p")
    # CJK punctuation ends the URL.
    assert note.find("a").get("href") == "https://example.org/photos"
    assert end.xpath(".//section[@class='about']/p")[0].text_content() == ZH_BOILERPLATE
    assert "外交部新闻发布" in end.xpath(".//section[@class='about']/h2")[0].text_content()


def _entry_html(docs: dict, path: str) -> list[str]:
    body = docs[path].body
    if path.endswith("feed.json"):
        return [item["content_html"] for item in json.loads(body)["items"]]
    root = etree.fromstring(body)
    if path.endswith("atom.xml"):
        return [c.text for c in root.iter("{http://www.w3.org/2005/Atom}content")]
    return [c.text for c in root.iter("{http://purl.org/rss/1.0/modules/content/}encoded")]


@pytest.mark.parametrize("lang", ["", "zh/"])
def test_every_feed_entry_carries_the_ending_and_stays_valid(ended: Newsroom, lang: str) -> None:
    docs = ended.documents()
    lint = {
        "feed.xml": feedlint.lint_rss,
        "atom.xml": feedlint.lint_atom,
        "feed.json": feedlint.lint_json_feed,
    }
    for name, check in lint.items():
        path = lang + name
        assert check(docs[path].body) == [], path
        (content,) = _entry_html(docs, path)
        end = html.fromstring(content).xpath("//footer[@class='release-end']")
        assert end, path
        hrefs = {a.get("href") for a in end[0].iter("a")}
        assert {"mailto:press@example.org", "tel:+861065961114"} <= hrefs, path
        about = (ZH_BOILERPLATE if lang else BOILERPLATE.split("\n\n")[0])[:10]
        assert about in end[0].text_content(), path


def test_a_release_without_an_ending_has_no_footer(tmp_path: Path) -> None:
    room = ended_newsroom(tmp_path, site={"boilerplate": ""})
    room.add("plain.txt", "Plain", "November 27, 2026")
    room.ingest()
    docs = room.documents()
    assert b"release-end" not in docs["releases/plain/"].body
    assert b"release-end" not in docs["feed.xml"].body
    room.store.close()


def test_an_unknown_contact_is_the_readers_error_at_its_line(ended: Newsroom) -> None:
    ended.write(
        "bad.md",
        '+++\ntitle = "Bad"\nsection = "Press"\ndate = 2026-11-27\n\ncontact = "nobody"\n+++\nText.\n',
    )
    (problem,) = ended.ingest().problems
    assert (problem.path, problem.line) == ("bad.md", 6)
    assert "nobody" in problem.message


def test_a_contact_changed_in_config_changes_pages_and_feeds_after_a_restart(
    ended: Newsroom,
) -> None:
    """The content hash covers the release's text, not config: what a new process (or
    `feedsvc build`, which renders every document each time) makes from the same store."""
    before = ended.documents()
    moved = Contact("press", "Zhang San", "Deputy Spokesperson", "zhang@example.org", "+86 10 1")
    settings = dataclasses.replace(ended.settings, contacts={"press": moved})
    after = {d.path: d for d in site_of(settings, ended.store.releases, ended.clock).documents()}
    for path in (f"releases/{ENDED}/", "feed.xml", "atom.xml", "feed.json"):
        assert b"Li Wei" in before[path].body and b"Li Wei" not in after[path].body, path
        assert b"Zhang San" in after[path].body, path


@pytest.mark.sqlite_only  # the pages are the same bytes on either database
def test_release_pages_with_an_ending_and_json_ld_pass_the_nu_checker(
    ended: Newsroom, tmp_path: Path
) -> None:
    from tests import npm
    from tests.publishing.test_html_valid import nu_messages

    home = npm.tools()
    docs = ended.documents()
    out = tmp_path / "pages"
    out.mkdir()
    files = []
    for path in (f"releases/{ENDED}/", f"zh/releases/{ZH}/"):
        file = out / (path.strip("/").replace("/", "_") + ".html")
        file.write_bytes(docs[path].body)
        files.append(file)
    assert nu_messages(home, files) == []
