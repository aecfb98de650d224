"""No string a reader sees escapes the catalogs (issue 15): every page and email is rendered
with a pseudo-language that turns each translated letter into 'ж', and the data into
Greek; any Latin word left is a string nobody marked for translation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html

from feedsvc.i18n import N_, template_callables
from feedsvc.model import ListedRelease, Release, StoredRelease
from feedsvc.publishing.pages import Pages
from feedsvc.sharing import letter
from feedsvc.sharing.letter import Letters, Recipient
from feedsvc.sharing.requests import ShareRequest
from tests.conftest import Newsroom, make_newsroom

PLACEHOLDER = re.compile(r"(%\(\w+\)[sd])")
# What is not a sentence but a name, the same in every language.
NAMES = {"RSS", "Atom", "JSON", "Feed", "Miniflux", "FreshRSS", "NetNewsWire", "Feedly"}
NAMES |= {"Thunderbird", "IP", "NUL", "api", "shares", "token"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
DAY = dt.datetime(2020, 9, 11, 2, 0, tzinfo=dt.UTC)


def pseudo(text: str) -> str:
    """Every letter outside the placeholders said as 'ж'."""
    parts = PLACEHOLDER.split(text)
    return "".join(p if PLACEHOLDER.fullmatch(p) else re.sub(r"[A-Za-z]", "ж", p) for p in parts)


class Pseudo(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return pseudo(singular if n == 1 else plural)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    # The data in Greek: what is left in Latin letters was never translated.
    room = make_newsroom(tmp_path, site={"title": "Γραφείο Τύπου", "description": "Ανακοινώσεις"})
    yield room
    room.store.close()


@pytest.fixture
def pages(room: Newsroom) -> Pages:
    pages = Pages(room.settings.site, room.settings.share)
    # The pages as they would be in a language whose catalog is the pseudo-language; the
    # date is CLDR's: Greek too.
    catalog = Pseudo()
    pages.base = {**pages.base, **template_callables(catalog), "date_locale": "el"}
    pages.translations = catalog  # what release and index pages compile in (folding.py)
    return pages


def release() -> StoredRelease:
    r = Release(
        id="ena",
        title="Μεγάλη είδηση",
        section="Ειδήσεις",
        published=DAY,
        body_html="<p>Κείμενο.</p>",
        summary="Περίληψη.",
        language="el",
        source="ena.txt",
        content_hash="x",
        tags=("Ετικέτα",),
        author="Γραφείο",
    )
    return StoredRelease(r, 1, DAY.date(), DAY + dt.timedelta(days=2))


def untranslated(page: bytes | str) -> set[str]:
    """The Latin words a reader sees: text, and the attributes read out or shown."""
    doc = html.fromstring(page)
    for gone in doc.xpath("//script | //style"):
        gone.drop_tree()
    seen = [doc.text_content()]
    seen += doc.xpath("//@aria-label | //@title | //@alt | //@placeholder")
    seen += doc.xpath("//input[@type='submit']/@value | //button/text()")
    return {w for text in seen for w in LATIN_WORD.findall(text)} - NAMES


def every_page(pages: Pages, room: Newsroom) -> dict[str, bytes]:
    stored = release()
    fields = {f.name for f in dataclasses.fields(ListedRelease)}
    listed = ListedRelease(**{k: getattr(stored.release, k) for k in fields})
    out = {
        "release": pages.release(stored),
        "index": pages.index([listed], page=2, newer="/", older="/page/3/"),
        "empty index": pages.index([], page=1, newer=None, older=None),
    }
    for name in ("404.html", "410.html", "503.html"):
        out[name] = pages.simple(name)
    env, base, rules = pages.env, pages.base, room.settings.share
    errors = {k: N_("unknown field") for k in ("to", "from_name", "from_email", "message")}
    out["form with errors"] = (
        env.get_template("share.html")
        .render(
            **base,
            r=stored.release,
            rules=dataclasses.replace(rules, max_recipients=5),
            values={},
            errors={**{k: pseudo(v) for k, v in errors.items()}, "to@": 0},
            token="t",
            notice=None,
        )
        .encode()
    )
    for count in (1, 2):
        out[f"sent {count}"] = (
            env.get_template("share_sent.html").render(**base, r=stored.release, count=count)
        ).encode()
    for state in ("ask", "done", "bad"):
        out[f"unsubscribe {state}"] = (
            env.get_template("unsubscribe.html").render(**base, state=state, token="t")
        ).encode()
    return out


def test_every_page_says_only_what_the_catalogs_give(pages: Pages, room: Newsroom) -> None:
    left = {name: untranslated(body) for name, body in every_page(pages, room).items()}
    assert {name: words for name, words in left.items() if words} == {}


def test_every_email_says_only_what_the_catalogs_give(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(letter, "translations", lambda tag: Pseudo())
    letters = Letters(room.settings.site)
    r = release().release
    left = {}
    for by_operator in (False, True):
        for sender in (None, "Άννα"):
            request = ShareRequest("ena", ("a@example.org",), sender, None, "Γεια", "t", False)
            recipient = Recipient("a@example.org", "d", "https://u.example/")
            [(_, email)] = letters.compose(
                "s", request, r, "https://l.example/", [recipient], by_operator
            )
            p = email.payload
            text = re.sub(
                r"https?://\S+", "", p["text"] + " " + p["subject"] + " " + p["from_name"]
            )
            words = untranslated(p["html"]) | set(LATIN_WORD.findall(text))
            left[(by_operator, sender)] = words - NAMES
    assert {k: v for k, v in left.items() if v} == {}
