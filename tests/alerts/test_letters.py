"""The emails of email alerts (issue 16), composed as the email channel writes them and
read back with the standard library: headers, signed links, languages, escaping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from feedsvc.alerts import bounces, tokens
from feedsvc.alerts.letters import AlertLetters
from feedsvc.channels.email import Letterhead, compose
from feedsvc.config import Settings, settings_from_dict
from feedsvc.model import Delivery, Release, StoredRelease, scoped
from feedsvc.sharing.keys import Signer
from feedsvc.store.alerts import DigestItem
from feedsvc.store.subscribers import Subscriber

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
BASE = "https://press.example.org/"
SIGNER = Signer(b"k" * 32)
ZOE, MAX = "a" * 32, "b" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    raw = {
        "site": {
            "title": "Ministry Press Office",
            "base_url": BASE,
            "id_authority": "press.example.org",
            "timezone": "Asia/Shanghai",
        },
        "languages": {"zh": {"title": "外交部新闻"}, "ar": {"title": "المكتب الصحفي"}},
    }
    return settings_from_dict(raw, root=tmp_path)


@pytest.fixture
def letters(settings: Settings) -> AlertLetters:
    return AlertLetters(settings.site, settings.languages, SIGNER, settings.alerts)


def subscriber(sid: str = ZOE, language: str | None = None, **changes: Any) -> Subscriber:
    base = Subscriber(
        id=sid,
        address_hash="h-" + sid,
        address=f"{sid[:3]}@example.org",
        frequency="immediate",
        sections=None,
        language=language,
        status="confirmed",
        created_at=T0,
        confirmed_at=T0,
        consent_at=T0,
        consent_network=None,
        consent_form=None,
        consent_basis=None,
        consent_note=None,
        hard_bounces=0,
        soft_bounces=0,
        last_digest_at=None,
        updated_at=T0,
    )
    return dataclasses.replace(base, **changes)


def stored(title: str = "Budget approved", language: str | None = None, **changes: Any):
    rid = changes.pop("rid", "2026-11-27-budget")
    release = Release(
        id=rid,
        key=scoped(rid, language),
        title=title,
        section="Press Releases",
        published=changes.pop("published", T0),
        body_html="<p>Body</p>",
        summary="The budget was approved.",
        language=language or "en",
        source=f"{rid}.txt",
        content_hash=changes.pop("content_hash", "hash1"),
    )
    return StoredRelease(release, 1, T0.date(), changes.pop("updated", T0))


def message(payload: dict[str, Any], settings: Settings, key: str = "alert 1") -> EmailMessage:
    delivery = Delivery(1, "email", "x", payload, key, "sending", 1, T0, T0)
    data = compose(delivery, Letterhead.of(settings)).data
    return BytesParser(policy=default).parsebytes(data)  # type: ignore[return-value]


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def token_in(text: str, page: str) -> str:
    found = re.findall(rf"{re.escape(BASE)}(?:[a-z]+/)?alerts/{page}\?t=([A-Za-z0-9_.-]+)", text)
    assert found, f"no {page} link in {text!r}"
    assert len(set(found)) == 1
    return found[0]


def assert_listed(msg: EmailMessage, sid: str, prefix: str = "") -> None:
    """RFC 8058 one-click, RFC 2919 list id, RFC 3834; every link naming `sid`."""
    unsubscribe = msg["List-Unsubscribe"]
    match = re.fullmatch(rf"<{re.escape(BASE + prefix)}alerts/unsubscribe\?t=(\S+)>", unsubscribe)
    assert match, unsubscribe
    assert tokens.managed_id(SIGNER, match[1]) == sid
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"].endswith("<alerts.press.example.org>")
    assert msg["Auto-Submitted"] == "auto-generated"
    for body in bodies(msg):
        assert tokens.managed_id(SIGNER, token_in(body, "manage")) == sid
        assert f"{BASE}{prefix}alerts/manage?t=" in body


def test_a_release_letter_in_english(letters: AlertLetters, settings: Settings) -> None:
    evening = T0 + dt.timedelta(hours=8)  # 20:00 UTC: the next morning in Asia/Shanghai
    payload = letters.release(subscriber(), stored(published=evening), None)
    msg = message(payload, settings)
    assert msg["Subject"] == "Budget approved"
    assert msg["To"] == "aaa@example.org"
    assert msg["From"] == "Ministry Press Office <noreply@press.example.org>"
    assert msg["List-Id"] == "Ministry Press Office alerts <alerts.press.example.org>"
    assert_listed(msg, ZOE)
    text, html = bodies(msg)
    link = f"{BASE}releases/2026-11-27-budget/"
    assert link in text and f'href="{link}"' in html
    assert "The budget was approved." in text
    assert "November 28, 2026" in text  # the date in site.timezone, as CLDR says it
    assert "Updated" not in text
    rp = payload["return_path"]
    assert bounces.subscriber_of(rp, "press.example.org", tokens.verp_key(SIGNER)) == ZOE


def test_an_update_says_so_with_its_note(letters: AlertLetters, settings: Settings) -> None:
    msg = message(letters.release(subscriber(), stored(), "Corrected the total."), settings)
    assert msg["Subject"] == "Updated: Budget approved"
    text, html = bodies(msg)
    assert "Updated: Corrected the total." in text
    assert "Updated: Corrected the total." in html


def test_each_subscriber_gets_their_own_links_from_the_body_rendered_once(
    letters: AlertLetters, settings: Settings
) -> None:
    release = stored()
    first = letters.release(subscriber(ZOE), release, None)
    second = letters.release(subscriber(MAX), release, None)
    assert_listed(message(first, settings), ZOE)
    assert_listed(message(second, settings), MAX)
    assert second["to"] == "bbb@example.org"
    # A new version of the release is not served from the kept body.
    edited = stored("Budget approved, with amendments", content_hash="hash2")
    assert "with amendments" in letters.release(subscriber(), edited, None)["text"]


def test_a_release_letter_in_arabic_reads_right_to_left(
    letters: AlertLetters, settings: Settings
) -> None:
    payload = letters.release(subscriber(language="ar"), stored("الميزانية", "ar"), None)
    msg = message(payload, settings)
    assert msg["Subject"] == "الميزانية"
    assert_listed(msg, ZOE, prefix="ar/")
    assert msg["List-Id"] == "المكتب الصحفي alerts <alerts.press.example.org>"
    assert "المكتب الصحفي" in msg["From"]
    text, html = bodies(msg)
    assert f"{BASE}ar/releases/2026-11-27-budget/" in text
    assert '<html lang="ar" dir="rtl">' in html
    assert "٢٠٢٦" in text or "2026" in text


def test_the_confirmation_link_is_signed_and_lapses(
    letters: AlertLetters, settings: Settings
) -> None:
    pending = subscriber(status="pending", confirmed_at=None)
    payload = letters.confirm(pending, T0)
    msg = message(payload, settings)
    assert msg["Subject"] == "Confirm your email alerts from Ministry Press Office"
    # Not on a list yet: nothing to leave (the text says nothing more will be sent).
    assert msg["List-Unsubscribe"] is None and msg["List-Id"] is None
    assert msg["Auto-Submitted"] == "auto-generated"
    text, html = bodies(msg)
    token = token_in(text, "confirm")
    assert token_in(html, "confirm") == token
    days = settings.alerts.confirm_days
    assert f"works for {days} days" in text
    assert "If you did not ask, ignore this email: nothing more will be sent." in text
    assert tokens.confirmed_id(SIGNER, token, T0 + dt.timedelta(days=days), days) == ZOE
    late = T0 + dt.timedelta(days=days, seconds=1)
    assert tokens.confirmed_id(SIGNER, token, late, days) is None
    assert tokens.managed_id(SIGNER, token) is None  # a confirm token manages nothing
    # Another subscriber's confirmation, from the same kept body, names them.
    other = letters.confirm(dataclasses.replace(pending, id=MAX), T0)
    assert tokens.confirmed_id(SIGNER, token_in(other["text"], "confirm"), T0, days) == MAX


def test_the_confirmation_in_chinese_links_under_its_prefix(
    letters: AlertLetters, settings: Settings
) -> None:
    payload = letters.confirm(subscriber(language="zh", status="pending"), T0)
    msg = message(payload, settings)
    assert "外交部新闻" in msg["Subject"]
    text, _ = bodies(msg)
    assert f"{BASE}zh/alerts/confirm?t=" in text


def test_asked_again_while_subscribed_sends_the_manage_link(
    letters: AlertLetters, settings: Settings
) -> None:
    payload = letters.already(subscriber(language="zh"))
    msg = message(payload, settings)
    assert_listed(msg, ZOE, prefix="zh/")
    assert "外交部新闻" in msg["Subject"]
    # Not ASCII: RFC 2047 words (the allow-list takes printable ASCII only).
    assert payload["headers"]["List-Id"].startswith("=?utf-8?b?")
    assert msg["List-Id"] == "外交部新闻 alerts <alerts.press.example.org>"


def test_a_digest_lists_titles_with_links_and_dates(
    letters: AlertLetters, settings: Settings
) -> None:
    items = [
        DigestItem(stored("First release", rid="2026-11-25-first"), None),
        DigestItem(stored("Second release", rid="2026-11-26-second"), "New figures."),
    ]
    since = T0 - dt.timedelta(days=1)
    msg = message(letters.digest(subscriber(), items, "daily", since), settings)
    assert msg["Subject"] == "Your daily digest from Ministry Press Office"
    assert_listed(msg, ZOE)
    text, html = bodies(msg)
    assert text.index("First release") < text.index("Second release")
    for rid in ("2026-11-25-first", "2026-11-26-second"):
        assert f"{BASE}releases/{rid}/" in text and f'href="{BASE}releases/{rid}/"' in html
    assert "Updated: New figures." in text
    assert "since November 26, 2026" in text
    weekly = message(letters.digest(subscriber(MAX), items, "weekly", since), settings)
    assert weekly["Subject"] == "Your weekly digest from Ministry Press Office"
    assert_listed(weekly, MAX)


@pytest.mark.parametrize(
    "title",
    [
        "Budget\r\nBcc: victim@example.net",
        "Budget\nBcc: victim@example.net",
        "Budget\u2028Bcc: victim@example.net",
        "Budget\x85Bcc: victim@example.net",
        "\u202eBudget\u202c\r\nBcc: victim@example.net",
    ],
)
def test_a_title_cannot_add_a_header(letters: AlertLetters, settings: Settings, title: str) -> None:
    msg = message(letters.release(subscriber(), stored(title), None), settings)
    assert msg["Bcc"] is None
    assert "victim@example.net" not in str(msg["To"])
    assert "\n" not in msg["Subject"] and "Bcc: victim@example.net" in msg["Subject"]
    text, _ = bodies(msg)
    assert not any(line.startswith("Bcc:") for line in text.splitlines())  # one line there too
    digest = [DigestItem(stored(title), None)]
    assert message(letters.digest(subscriber(), digest, "daily", T0), settings)["Bcc"] is None


def test_html_escapes_what_the_release_says(letters: AlertLetters, settings: Settings) -> None:
    title = 'Budget <script>alert("x")</script>'
    msg = message(letters.release(subscriber(), stored(title), "<b>bold</b> note"), settings)
    text, html = bodies(msg)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert title in text  # plain text as written
    items = [DigestItem(stored(title), None)]
    _, digest_html = bodies(message(letters.digest(subscriber(), items, "daily", T0), settings))
    assert "<script>" not in digest_html


def test_a_subscriber_without_an_address_gets_no_letter(letters: AlertLetters) -> None:
    with pytest.raises(ValueError, match="no address"):
        letters.release(subscriber(address=None), stored(), None)
