"""Embargoed previews end to end (issue 17 item 6): `feedsvc preview` makes the link, the
app as `serve` wires it answers it, a real SMTP server (aiosmtpd) receives the emails, and
the clock moves through the embargo. On SQLite and PostgreSQL (FEEDSVC_TEST_DATABASE)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from feedsvc.previews.tokens import PreviewTokens
from feedsvc.sharing.keys import Signer, load_key
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import db_rows
from tests.previews.office import EMBARGO, NOW, Office, Reply, markdown, office_at
from tests.web.media_items import JPEG

TITLE = "Zebrafinch accord signed"
OTHER_EMBARGO = EMBARGO + dt.timedelta(hours=5)


@pytest.fixture
def sink() -> Iterator[Recorder]:
    recorder = Recorder()
    with smtp_server(recorder) as controller:
        recorder.port = controller.port  # type: ignore[attr-defined]
        yield recorder


@pytest.fixture
def office(tmp_path: Path, sink: Recorder) -> Iterator[Office]:
    mail = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,  # type: ignore[attr-defined]
        "smtp_security": "none",
    }
    with office_at(tmp_path, mail=mail) as room:
        room.write("public.md", markdown("A public statement", "Public words."))
        body = "The zebrafinch accord is signed."
        room.write(
            "secret/index.md",
            markdown(TITLE, body, publish_at=EMBARGO, tags=("Quokka",), image="photo.jpg"),
        )
        room.write("secret/photo.jpg", JPEG)
        room.write("other.md", markdown("Another plan", "Other words.", publish_at=OTHER_EMBARGO))
        room.start()
        yield room


def preview(office: Office, *args: str) -> str:
    rc, out, err = office.cli("preview", *args)
    assert rc == 0, err
    return out.strip()


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_the_link_shows_the_page_with_the_banner_and_keeps_it_private(office: Office) -> None:
    link = preview(office, "secret")
    assert link.startswith("https://press.example.org/releases/secret/preview?t=")
    page = office.get(path_of(link))
    assert page.status == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert page.headers["referrer-policy"] == "no-referrer"
    doc = lxml.html.fromstring(page.body)
    banner = doc.xpath("//p[@class='embargo']")[0].text_content()
    # 2:00 the next day in Shanghai, as CLDR writes it in English, with the zone.
    local = EMBARGO.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert banner.startswith("EMBARGOED until ")
    assert f"{local:%B} {local.day}, {local.year}" in banner and "+0800" in banner
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex, nofollow"]
    assert doc.xpath("//h1/text()") == [TITLE]
    # Nothing that shares it, nothing that names its public URL as live.
    for absent in ("//link[@rel='canonical']", "//link[@hreflang]", "//meta[@property]"):
        assert doc.xpath(absent) == [], absent
    # The site's search box (base.html) is the one form: no share or subscribe form.
    assert doc.xpath("//form[not(@role='search')]") == []
    assert doc.xpath("//a[starts-with(@href,'mailto:')]") == [] and b"share" not in page.body
    assert doc.xpath("//script") == []  # no JSON-LD naming mainEntityOfPage, no share.js
    # The picture: shown with the token, 404 on its public URL.
    src = doc.xpath("//figure//img/@src")[0]
    assert src.endswith(urlsplit(link).query.join(("?", "")))
    picture = office.get(src)
    assert picture.status == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.headers["cache-control"] == "private, no-store"
    assert picture.headers["referrer-policy"] == "no-referrer"
    assert office.get(src.split("?")[0]).status == 404
    assert office.get(src.split("?")[0] + "?t=forged.token").status == 404


def _refusals(office: Office, good: str) -> dict[str, Reply]:
    token = urlsplit(good).query.removeprefix("t=")
    head, mac = token.split(".")
    forged = f"{head}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    other = preview(office, "other")
    replies = {
        "forged": office.get(f"/releases/secret/preview?t={forged}"),
        "other release": office.get("/releases/secret/preview?" + urlsplit(other).query),
        "no token": office.get("/releases/secret/preview"),
        "garbage": office.get("/releases/secret/preview?t=%00%ff"),
        "unknown release": office.get("/releases/nope/preview?t=" + token),
    }
    # A token signed with the right key for another purpose (an unsubscribe link's).
    signer = Signer(load_key(office.settings))
    replies["other purpose"] = office.get(
        "/releases/secret/preview?t=" + signer.sign("unsubscribe", "secret\n9999999999\nx")
    )
    return replies


def test_bad_tokens_are_refused_alike(office: Office) -> None:
    good = preview(office, "secret", "--until", (NOW + dt.timedelta(hours=1)).isoformat())
    assert office.get(path_of(good)).status == 200
    replies = _refusals(office, good)
    office.clock.at = NOW + dt.timedelta(hours=1, seconds=1)
    replies["expired"] = office.get(path_of(good))
    office.clock.at = NOW
    assert office.get(path_of(good)).status == 200
    rc, out, _ = office.cli("preview", "revoke", "secret")
    assert rc == 0 and "0 waiting emails cancelled" in out
    replies["revoked"] = office.get(path_of(good))
    first = replies["forged"]
    assert first.status == 404
    for why, reply in replies.items():
        assert (reply.status, reply.body, reply.headers) == (
            first.status,
            first.body,
            first.headers,
        ), why
    # A new link after the revoke works: the epoch moved, the release did not.
    assert office.get(path_of(preview(office, "secret"))).status == 200


def test_the_link_ends_at_the_embargo_and_then_leads_to_the_public_page(office: Office) -> None:
    link = preview(office, "secret")
    office.clock.at = EMBARGO - dt.timedelta(seconds=1)
    assert office.get(path_of(link)).status == 200
    office.clock.at = EMBARGO
    office.publish_due()
    public = office.get("/releases/secret/")
    assert public.status == 200 and TITLE in public.text
    moved = office.get(path_of(link))
    assert moved.status == 303 and moved.headers["location"] == "/releases/secret/"
    assert moved.headers["cache-control"] == "private, no-store"
    rc, _, err = office.cli("preview", "secret")
    assert rc == 2 and "already public" in err


def test_the_command_refuses_what_has_no_preview(office: Office) -> None:
    after = (EMBARGO + dt.timedelta(minutes=1)).isoformat()
    past = (NOW - dt.timedelta(minutes=1)).isoformat()
    cases = [
        (("nope",), "no release 'nope'"),
        (("public",), "already public"),
        (("secret", "--until", after), "--until: after the embargo"),
        (("secret", "--until", past), "--until: in the past"),
        (("secret", "--to", "not an address"), "--to: 'not an address'"),
        (("secret", "--language", "xx"), "--language: 'xx'"),
        (("revoke",), "give one RELEASE_ID"),
        (("secret", "other"), "give one RELEASE_ID"),
        (("revoke", "secret", "--to", "ana@example.org"), "--to and --until are for"),
        (("../etc",), "'../etc' is not a release id"),
    ]
    for args, said in cases:
        rc, out, err = office.cli("preview", *args)
        assert (rc, out) == (2, ""), args
        assert said in err, (args, err)
    (office.items / "other.md").unlink()
    office.ingest()
    rc, _, err = office.cli("preview", "other")
    assert rc == 2 and "withdrawn" in err
    rc, out, _ = office.cli("preview", "list")
    assert rc == 0 and "secret" in out and TITLE in out and "other" not in out


def _letters(sink: Recorder) -> list[EmailMessage]:
    return [received.message for received in sink.received]


def test_to_emails_the_link_once_per_address(office: Office, sink: Recorder) -> None:
    to = ("--to", "ana@example.org", "--to", "bo@example.net")
    link = preview(office, "secret", *to)
    rc, out, err = office.cli("preview", "secret", *to)  # the same command again
    assert rc == 0 and out.strip() == link and "0 emails queued" in err
    office.clock.at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    office.service.dispatch()  # type: ignore[union-attr]
    letters = _letters(sink)
    assert sorted(str(m["To"]) for m in letters) == ["ana@example.org", "bo@example.net"]
    for message in letters:
        assert str(message["Subject"]).startswith("Embargoed until December")
        assert str(message["Subject"]).endswith(f": {TITLE}")
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert link in text and link.replace("&", "&amp;") in html
        assert "EMBARGOED until" in text
    # Delivered: the address and the letter are gone from the outbox.
    rows = db_rows(office.settings.database.url, "SELECT target, payload, status FROM deliveries")
    assert rows and all(row == ("", "{}", "delivered") for row in rows)
    assert office.get(path_of(link)).status == 200


def test_revoke_cancels_the_waiting_emails_and_kills_the_link(
    office: Office, sink: Recorder
) -> None:
    link = preview(office, "secret", "--to", "ana@example.org", "--to", "bo@example.net")
    preview(office, "other", "--to", "ana@example.org")  # another release's: still sent
    rc, out, _ = office.cli("preview", "revoke", "secret")
    assert rc == 0 and "2 waiting emails cancelled" in out
    # The journalists' addresses and the dead link go with the cancelled emails.
    with office.service.store.engine.connect() as conn:  # type: ignore[union-attr]
        kept = conn.exec_driver_sql(
            "SELECT target, payload FROM deliveries WHERE status = 'cancelled'"
        ).all()
    assert len(kept) == 2 and all(row == ("", "{}") for row in kept)
    office.clock.at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    office.service.dispatch()  # type: ignore[union-attr]
    letters = _letters(sink)
    assert [str(m["Subject"]).endswith(": Another plan") for m in letters] == [True]
    assert office.get(path_of(link)).status == 404


def test_a_token_says_its_release_and_end_and_nothing_else_verifies() -> None:
    tokens = PreviewTokens(Signer(b"k" * 32))
    token = tokens.make("secret", EMBARGO, "e1")
    grant = tokens.read(token)
    assert grant is not None and grant.expires == EMBARGO.replace(microsecond=0)
    assert tokens.grants(grant, "secret", "e1")
    assert not tokens.grants(grant, "secret", "e2")  # revoked
    assert not tokens.grants(grant, "secre", "e1")  # another release
    assert not tokens.grants(grant, "secret", None)  # never issued
    assert PreviewTokens(Signer(b"x" * 32)).read(token) is None  # another key
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)  # URL-safe as it is


def test_a_translation_is_previewed_and_emailed_in_its_language(
    tmp_path: Path, sink: Recorder
) -> None:
    mail = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,  # type: ignore[attr-defined]
        "smtp_security": "none",
    }
    with office_at(tmp_path, mail=mail, **{"languages.zh": {"title": "新闻办公室"}}) as room:
        text = markdown("协议签署", "协议的正文。", publish_at=EMBARGO)
        room.write("mimi.md", text.replace("+++\n", '+++\nlanguage = "zh"\n', 1))
        room.start()
        link = preview(room, "mimi", "--language", "zh", "--to", "ana@example.org")
        assert link.startswith("https://press.example.org/zh/releases/mimi/preview?t=")
        assert office_get_status(room, link.replace("/zh/", "/", 1)) == 404  # not the site's
        page = room.get(path_of(link))
        assert page.status == 200 and '<html lang="zh"' in page.text
        local = EMBARGO.astimezone(dt.timezone(dt.timedelta(hours=8)))
        said = f"{local.year}年{local.month}月{local.day}日"  # CLDR's Chinese date
        assert said in page.text
        room.clock.at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        room.service.dispatch()  # type: ignore[union-attr]
        (letter,) = _letters(sink)
        assert said in str(letter["Subject"]) and str(letter["Subject"]).endswith("协议签署")
        assert '<html lang="zh"' in letter.get_body(("html",)).get_content()  # type: ignore[union-attr]
        room.clock.at = EMBARGO
        room.publish_due()
        moved = room.get(path_of(link))
        assert moved.status == 303 and moved.headers["location"] == "/zh/releases/mimi/"


def office_get_status(office: Office, link: str) -> int:
    return office.get(path_of(link)).status
