"""A share's letter made from its release's rendered shape (issue 18) is byte for byte the
letter the templates render for the same values, in every shape and language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.model import Release
from feedsvc.sharing import letter
from feedsvc.sharing.letter import Letters, Recipient
from feedsvc.sharing.requests import ShareRequest
from tests.conftest import Newsroom, make_newsroom

LANGUAGES = {"zh": {"title": "外交部新闻"}, "ar": {"title": "المكتب <الصحفي> & co"}}
SENDERS = (None, "Ana", 'Ana "<b>bold</b>" & O\'Brien', "Άννα 100%s %(who)s")
MESSAGES = (
    None,
    "Worth a read.",
    "Line one <script>alert(1)</script>\n> quoted & more\n\nlast line\n",
    "\n",
)


def translation(tag: str, title: str) -> str:
    return (
        f'+++\ntitle = "{title}"\ndate = 2026-11-26T09:00:00Z\nsection = "Press Releases"\n'
        f'language = "{tag}"\n+++\n'
        "Text with <angle> & ampersand.\n"
    )


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path, languages=LANGUAGES)
    room.add("news.txt", 'Big <news> & "more"', "November 26, 2026")
    room.write("news.zh.md", translation("zh", "重大新闻"))
    room.write("news.ar.md", translation("ar", "خبر كبير"))
    room.ingest()
    yield room
    room.store.close()


def releases(room: Newsroom) -> list[Release]:
    found = [room.store.releases.get(key) for key in ("news", "news@zh", "news@ar")]
    assert all(found)
    return [stored.release for stored in found if stored is not None]


def test_each_letter_is_what_the_templates_render(room: Newsroom) -> None:
    letters = Letters(room.settings.site, room.settings.languages)
    recipients = [
        Recipient("a@example.org", "d1", "https://x.example/unsubscribe?t=a.b&lang=zh"),
        Recipient("b@example.org", "d2", "https://x.example/unsubscribe?t=<c>&d"),
    ]
    link = "https://x.example/s/abc?x=1&y=<2>"
    compared = 0
    for release in releases(room):
        language = letters.language_of(release)
        for by_operator in (False, True):
            for sender in SENDERS:
                for message in MESSAGES:
                    request = ShareRequest(
                        release.id,
                        ("a@example.org", "b@example.org"),
                        sender,
                        None,
                        message,
                        "t",
                        False,
                    )
                    emails = letters.compose("s1", request, release, link, recipients, by_operator)
                    for recipient, (_, email) in zip(recipients, emails, strict=True):
                        text, html = letters._render(
                            release,
                            language,
                            sender,
                            letter.defang(message) if message else None,
                            link,
                            recipient.unsubscribe,
                            by_operator,
                        )
                        assert email.payload["text"] == text
                        assert email.payload["html"] == html
                        compared += 1
    assert compared == 3 * 2 * len(SENDERS) * len(MESSAGES) * 2


def test_a_value_naming_a_marker_is_put_in_as_it_is(room: Newsroom) -> None:
    # The markers are secret, but even a value holding one is never searched for them.
    letters = Letters(room.settings.site)
    release = releases(room)[0]
    sender = f"{letter.MESSAGE} {letter.LINK}"
    request = ShareRequest(release.id, ("a@example.org",), sender, None, "Hi", "t", False)
    recipient = Recipient("a@example.org", "d", "https://x.example/u")
    [(_, email)] = letters.compose("s", request, release, "https://l/", [recipient], False)
    assert sender in email.payload["text"]
    assert letter.MESSAGE not in email.payload["text"].replace(sender, "")


def test_an_edited_release_is_rendered_again(room: Newsroom) -> None:
    letters = Letters(room.settings.site)
    request = ShareRequest("news", ("a@example.org",), None, None, None, "t", False)
    recipient = Recipient("a@example.org", "d", "https://x.example/u")
    before = releases(room)[0]
    [(_, email)] = letters.compose("s", request, before, "https://l/", [recipient], False)
    assert "Big &lt;news&gt;" in email.payload["html"]
    room.clock.advance(seconds=60)
    room.add("news.txt", "Bigger news", "November 26, 2026")
    room.ingest()
    after = releases(room)[0]
    [(_, email)] = letters.compose("s", request, after, "https://l/", [recipient], False)
    assert "Bigger news" in email.payload["html"]
    assert "Big &lt;news&gt;" not in email.payload["html"]
