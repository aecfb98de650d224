""" "Suggest To A Friend" end to end: a real `feedsvc serve`, a real SMTP server (aiosmtpd)
and a real webhook receiver, all on 127.0.0.1. A browser without JavaScript sends the form
twice (the first answer brings the token); a program uses the JSON API. The emails are
parsed as a mail client would, and their links are followed."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urljoin

import lxml.html
import pytest
import requests

from feedsvc.model import Delivery
from feedsvc.sharing.keys import Signer, address_hash
from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Receiver, Request, verify
from tests.channels.smtp_server import Received, Recorder, smtp_server
from tests.conftest import SEED, SEED_ID, SEED_TITLE, db_rows
from tests.web.conftest import CLEAN_EXIT, Server, metric, wait_for

SITE_TITLE = "Ministry Press Office"
SENDER = "noreply@press.example.org"  # the site's own address: mail.from's default
MIN_FILL = 0.3
HOOK_SECRET_ENV = "FEEDSVC_TEST_SHARE_HOOK_SECRET"
ZWSP = "\u200b"
AGAIN = "please check it and press Send again"


def share_config(smtp_port: int, **share: Any) -> dict[str, Any]:
    """A live server that sends email to aiosmtpd at once and takes forms 0.3 s old."""
    return {
        "site": {"title": SITE_TITLE},
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
        },
        "outbox": {"tick_seconds": 0.2, "allow_private_targets": True},
        "share": {"min_fill_seconds": MIN_FILL, **share},
    }


# -- talking to the service ------------------------------------------------------------------


def visible(srv: Server, rid: str, timeout: float = 10) -> None:
    wait_for(
        lambda: srv.get(f"/releases/{rid}/").status_code == 200, timeout, what=f"{rid} published"
    )


def fetch_token(srv: Server, release: str, http: requests.Session | None = None) -> str:
    r = (http or srv.http).get(
        srv.base + "/api/shares/token", params={"release": release}, timeout=5
    )
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["token"]


def post_json(
    srv: Server, body: Any, http: requests.Session | None = None, **headers: str
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **headers}
    return (http or srv.http).post(
        srv.base + "/api/shares", data=data, headers=sent, timeout=5, allow_redirects=False
    )


def api_share(
    srv: Server,
    http: requests.Session | None = None,
    *,
    wait: float = MIN_FILL,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> requests.Response:
    """A share through the JSON API, as documented: a token, a pause, the POST."""
    fields.setdefault("release", SEED_ID)
    token = fetch_token(srv, fields["release"], http)
    time.sleep(wait)
    return post_json(srv, {**fields, "token": token}, http, **(headers or {}))


def post_form(
    srv: Server,
    page: requests.Response,
    to: list[str],
    http: requests.Session | None = None,
    *,
    action: str | None = None,
    **fields: str,
) -> requests.Response:
    """Send the share form on `page` as a browser does: to its action, resolved against the
    page's own URL (or to `action`), with every field the form has."""
    form = share_form(page.content)
    target = action or urljoin(page.url, form.get("action"))
    return (http or srv.http).post(
        target, data=filled(form, to, **fields), timeout=5, allow_redirects=False
    )


def share_form(page: bytes) -> lxml.html.FormElement:
    forms = lxml.html.fromstring(page).xpath('//form[contains(@class, "share-form")]')
    assert len(forms) == 1, "one share form on the page"
    return forms[0]


def filled(form: lxml.html.FormElement, to: list[str], **fields: str) -> list[tuple[str, str]]:
    """What a browser sends for this form: every field, in order, as the page has it (an
    input without a value attribute as empty), with the `to` inputs and the named fields
    typed over."""
    addresses = iter(to)
    values = []
    for element in form.inputs:
        name = element.get("name")
        if not name or element.get("type") in ("submit", "button", "reset", "image"):
            continue
        value = element.value or ""
        if name == "to":
            value = next(addresses, "")
        elif name in fields:
            value = fields[name]
        values.append((name, value))
    return values


def field_value(form: lxml.html.FormElement, name: str) -> str:
    [element] = form.xpath(f'.//*[@name="{name}"]')
    return element.text or "" if element.tag == "textarea" else element.get("value", "")


def field_error(form: lxml.html.FormElement, name: str) -> str:
    """The error shown beside the (one) input of `name` marked invalid."""
    wrong = [e for e in form.inputs if e.name == name and e.get("aria-invalid") == "true"]
    assert len(wrong) == 1, f"one {name} input marked invalid, not {len(wrong)}"
    [error] = form.xpath(f'.//*[@id="{wrong[0].get("aria-describedby")}"]')
    return error.text_content()


def healthy(srv: Server) -> None:
    assert srv.get("/healthz").status_code == 200


def db(srv: Server, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return db_rows(srv.database_url, sql, **params)


def email_count(srv: Server) -> int:
    return db(srv, "SELECT count(*) FROM deliveries WHERE channel = 'email'")[0][0]


def email_statuses(srv: Server, share_id: str) -> list[str]:
    rows = db(
        srv,
        "SELECT status FROM deliveries WHERE channel = 'email' AND subject = :share",
        share=share_id,
    )
    return [status for (status,) in rows]


def signer(srv: Server) -> Signer:
    """The service's own key (made on first start): what it signs and hashes, a test can."""
    return Signer((srv.root / "var" / "secret_key").read_bytes())


def stable_message_id(srv: Server, share_id: str, address: str) -> str:
    """The Message-ID of the email of this share to `address`: made from its delivery's key,
    so the same on every attempt."""
    key = f"share {share_id} {address_hash(signer(srv), address)}"
    assert db(srv, "SELECT count(*) FROM deliveries WHERE key = :key", key=key) == [(1,)]
    now = dt.datetime.now(dt.UTC)
    delivery = Delivery(0, "email", address, {}, key, "pending", 0, now, now)
    return f"<{delivery.stable_id}@press.example.org>"


def mail_to(recorder: Recorder, address: str) -> list[Received]:
    return [r for r in list(recorder.received) if address in r.rcpt_tos]


def one_mail_to(recorder: Recorder, address: str, timeout: float = 5) -> EmailMessage:
    [received] = wait_for(lambda: mail_to(recorder, address), timeout, what=f"mail to {address}")
    assert received.mail_from == SENDER
    return received.message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text/plain and the text/html part of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def unsubscribe_url(message: EmailMessage) -> str:
    m = re.fullmatch(r"<([^<>\s]+)>", message["List-Unsubscribe"])
    assert m, message["List-Unsubscribe"]
    return m[1]


def words(text: str) -> str:
    return " ".join(text.split())


def summary_of(srv: Server, rid: str) -> str:
    feed = json.loads(srv.body("/feed.json"))
    [item] = [i for i in feed["items"] if i["url"].rstrip("/").endswith(rid)]
    return item["summary"]


# -- the service ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as controller:
        yield recorder, controller.port


@pytest.fixture(scope="module")
def hooks() -> Iterator[tuple[Receiver, str]]:
    with pytest.MonkeyPatch.context() as env, Receiver() as receiver:
        secret = new_secret()
        env.setenv(HOOK_SECRET_ENV, secret)  # the service inherits the environment
        yield receiver, secret


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    smtp: tuple[Recorder, int],
    hooks: tuple[Receiver, str],
) -> Iterator[Server]:
    receiver, _ = hooks
    config: dict[str, Any] = share_config(smtp[1], per_ip_per_hour=50, per_recipient_per_day=10)
    config["webhooks"] = [
        {"url": receiver.url + "plain", "secret_env": HOOK_SECRET_ENV, "events": ["share.created"]},
        {
            "url": receiver.url + "full",
            "secret_env": HOOK_SECRET_ENV,
            "events": ["share.created"],
            "include_recipients": True,
        },
    ]
    srv = Server(tmp_path_factory.mktemp("share-live"), config)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda srv: visible(srv, SEED_ID))
    yield srv
    assert srv.stop() in CLEAN_EXIT


# -- the form, without JavaScript -------------------------------------------------------------

FORM_FRIEND = "friend.of.zoe@example.org"
FORM_SENDER = "zoe.sender@example.net"
FORM_MESSAGE = "Look at this!\r\n<b>Really</b>, see https://evil.example/x or www.evil.example."


@dataclass(frozen=True)
class FormShare:
    release_page: requests.Response
    again: requests.Response  # the answer to the form sent without a token
    sent: requests.Response  # the answer to the form sent again, with it
    confirmation: requests.Response
    share_id: str
    message: EmailMessage


@pytest.fixture(scope="module")
def by_form(server: Server, smtp: tuple[Recorder, int]) -> FormShare:
    """Zoë shares the seed release from its page, as a browser without JavaScript does."""
    page = server.get(f"/releases/{SEED_ID}/")
    assert page.status_code == 200
    again = post_form(
        server,
        page,
        [FORM_FRIEND],
        from_name="Zoë",
        from_email=FORM_SENDER,
        message=FORM_MESSAGE,
    )
    assert again.status_code == 200, (again.url, again.status_code)
    time.sleep(MIN_FILL)
    sent = post_form(server, again, [FORM_FRIEND])
    assert sent.status_code == 303, (sent.url, sent.status_code)
    m = re.fullmatch(r"/shares/([A-Za-z0-9_-]+)/", sent.headers["Location"])
    assert m, sent.headers["Location"]
    confirmation = server.get(sent.headers["Location"])
    message = one_mail_to(smtp[0], FORM_FRIEND)
    return FormShare(page, again, sent, confirmation, m[1], message)


def test_the_release_page_has_a_form_with_an_empty_token(server: Server) -> None:
    page = server.get(f"/releases/{SEED_ID}/")
    form = share_form(page.content)
    assert form.get("method") == "post"
    names = [name for name, _ in filled(form, [])]
    assert sorted(set(names)) == [
        "from_email",
        "from_name",
        "message",
        "to",
        "token",
        "website",
    ]
    assert names.count("to") == 3  # share.max_recipients
    assert field_value(form, "token") == ""  # the page is the same cached bytes for everyone
    # Where a browser sends the form, and where share.js asks for a token, from this page.
    assert urljoin(page.url, form.get("action")) == f"{server.base}/releases/{SEED_ID}/share"
    token_url = urljoin(page.url, form.get("data-token-url"))
    assert token_url == f"{server.base}/api/shares/token?release={SEED_ID}"
    assert server.http.get(token_url, timeout=5).status_code == 200


def test_a_form_sent_without_a_token_comes_back_with_one_and_the_values_kept(
    by_form: FormShare,
) -> None:
    again = by_form.again
    assert again.headers["Content-Type"] == "text/html; charset=utf-8"
    assert again.headers["Cache-Control"] == "no-store"
    assert AGAIN in again.text
    form = share_form(again.content)
    assert urljoin(again.url, form.get("action")) == again.url
    assert len(field_value(form, "token")) > 20
    assert [v for k, v in filled(form, [FORM_FRIEND]) if k == "to"] == [FORM_FRIEND, "", ""]
    assert [element.value for element in form.inputs if element.name == "to"] == [
        FORM_FRIEND,
        "",
        "",
    ]
    assert field_value(form, "from_name") == "Zoë"
    assert field_value(form, "from_email") == FORM_SENDER
    # The HTML parser reads the textarea's CRLF as a browser does, as LF.
    assert field_value(form, "message").replace("\r\n", "\n") == FORM_MESSAGE.replace("\r\n", "\n")
    assert field_value(form, "website") == ""


def test_the_form_sent_again_leads_to_a_confirmation_without_the_address(
    by_form: FormShare,
) -> None:
    assert by_form.sent.content == b""
    page = by_form.confirmation
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Your suggestion is on its way" in page.text
    assert SEED_TITLE in page.text
    for personal in (FORM_FRIEND, FORM_SENDER, "Zoë", "evil.example"):
        assert personal not in page.text


def test_the_email_is_from_the_site_on_behalf_of_the_sharer(
    server: Server, smtp: tuple[Recorder, int], by_form: FormShare
) -> None:
    message = by_form.message
    [raw] = mail_to(smtp[0], FORM_FRIEND)
    head = raw.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are ASCII
    assert re.search(r"^From: =\?utf-8\?", head, re.M), "a non-ASCII name is RFC 2047 encoded"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (f"Zoë via {SITE_TITLE}", SENDER)
    assert [a.addr_spec for a in message["Reply-To"].addresses] == [FORM_SENDER]
    assert [a.addr_spec for a in message["To"].addresses] == [FORM_FRIEND]
    assert words(message["Subject"]) == f"Zoë suggests: {SEED_TITLE}"
    url = unsubscribe_url(message)
    assert url.startswith(server.base + "/unsubscribe?t=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == stable_message_id(server, by_form.share_id, FORM_FRIEND)
    assert message["Date"] is not None
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None


def test_both_parts_carry_the_release_and_the_sharers_words_defanged(
    server: Server, by_form: FormShare
) -> None:
    text, html = parts(by_form.message)
    link = f"{server.base}/s/{by_form.share_id}"
    summary = words(summary_of(server, SEED_ID))
    url = unsubscribe_url(by_form.message)

    assert SEED_TITLE in text and summary in words(text) and link in text
    assert f"Zoë wrote (their words, not {SITE_TITLE}'s):" in text
    assert (
        f"> <b>Really</b>, see https:{ZWSP}//evil.{ZWSP}example/x or w{ZWSP}ww.{ZWSP}evil.{ZWSP}example."
        in text
    )
    assert "> Look at this!" in text
    assert "https://evil.example" not in text and "www.evil" not in text
    assert url in text

    doc = lxml.html.fromstring(html)
    body = words(doc.text_content())
    assert SEED_TITLE in body and summary in body
    assert f"Zoë wrote (their words, not {SITE_TITLE}'s):" in body
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert hrefs.count(link) == 2 and url in hrefs
    assert not [h for h in hrefs if "evil" in h], "no link from the sharer's message"
    [quote] = doc.iter("blockquote")
    assert quote.text_content().replace("\r\n", "\n") == (
        f"Look at this!\n<b>Really</b>, see https:{ZWSP}//evil.{ZWSP}example/x or w{ZWSP}ww.{ZWSP}evil.{ZWSP}example."
    )
    assert list(quote) == [], "the sharer's markup is text, not elements"
    assert "&lt;b&gt;Really&lt;/b&gt;" in html and "<b>" not in html


def test_the_link_in_the_email_leads_to_the_release_and_is_counted(
    server: Server, by_form: FormShare
) -> None:
    link = f"{server.base}/s/{by_form.share_id}"
    assert link in parts(by_form.message)[0]

    def clicks() -> int:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "stats", "--config", str(server.config)],
            cwd=server.root,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        head, *rows = done.stdout.splitlines()
        assert head.split() == ["release", "shares", "emails", "clicks"]
        [row] = [line.split() for line in rows if line.split()[0] == SEED_ID]
        shares, emails, count = map(int, row[1:])
        assert shares >= 1 and emails >= 1
        return count

    before, counted = clicks(), metric(server.metrics(), "feedsvc_shares_total", outcome="clicked")
    r = server.get(f"/s/{by_form.share_id}")
    assert r.status_code == 303
    assert r.headers["Location"] == f"/releases/{SEED_ID}/"
    assert r.headers["Cache-Control"] == "no-store"
    page = server.get(r.headers["Location"])
    assert page.status_code == 200 and SEED_TITLE in page.text
    assert clicks() == before + 1
    samples = server.metrics()
    assert metric(samples, "feedsvc_shares_total", outcome="clicked") == counted + 1
    assert metric(samples, "feedsvc_http_requests_total", route="/s/{id}", status="303") >= 1
    assert server.get("/s/no-such-share").status_code == 404


# -- one-click unsubscribe (RFC 8058) ---------------------------------------------------------


def test_one_click_unsubscribe_stops_every_later_email(
    server: Server, smtp: tuple[Recorder, int]
) -> None:
    recorder, leaver = smtp[0], "leaving@example.org"
    first = api_share(server, to=[leaver])
    assert first.status_code == 202, first.text
    url = unsubscribe_url(one_mail_to(recorder, leaver))

    # A GET (a link checker, a mail scanner, a person) only asks.
    asked = server.http.get(url, timeout=5)
    assert asked.status_code == 200
    assert asked.headers["Cache-Control"] == "no-store"
    assert "Stop these emails?" in asked.text
    [form] = [  # issue 17: beside the search box
        f for f in lxml.html.fromstring(asked.content).forms if "search" not in (f.action or "")
    ]
    assert form.method == "POST" and urljoin(url, form.get("action")) == url
    assert api_share(server, to=[leaver]).status_code == 202
    wait_for(lambda: len(mail_to(recorder, leaver)) == 2, 5, what="a second email after a GET")

    # What a mail client sends for List-Unsubscribe-Post.
    done = server.http.post(
        url,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert done.status_code == 200, done.text
    assert "You will get no more emails" in done.text

    # The sharer is told the same as for anyone; the address gets nothing.
    after = api_share(server, to=[leaver])
    assert after.status_code == 202, after.text
    share_id = after.json()["id"]
    assert db(server, "SELECT recipients FROM shares WHERE id = :id", id=share_id) == [(1,)]
    assert email_statuses(server, share_id) == []
    time.sleep(1.0)  # five outbox ticks
    assert len(mail_to(recorder, leaver)) == 2

    # And through the form.
    again = post_form(server, server.get(f"/releases/{SEED_ID}/"), [leaver])
    time.sleep(MIN_FILL)
    sent = post_form(server, again, [leaver])
    assert sent.status_code == 303, (sent.url, sent.status_code)
    assert server.get(sent.headers["Location"]).status_code == 200
    share_id = sent.headers["Location"].split("/")[2]
    assert db(server, "SELECT recipients FROM shares WHERE id = :id", id=share_id) == [(1,)]
    assert email_statuses(server, share_id) == []
    healthy(server)


def test_a_bad_unsubscribe_link_changes_nothing(server: Server) -> None:
    for method in ("GET", "POST"):
        r = server.http.request(method, server.base + "/unsubscribe?t=forged.token", timeout=5)
        assert r.status_code == 400, (method, r.status_code)
        assert "This link does not work" in r.text


# -- the JSON API -----------------------------------------------------------------------------


def hook_calls(receiver: Receiver, path: str, share_id: str, secret: str) -> list[Any]:
    events = [verify(r, secret) for r in receiver.requests if r.path == path]
    return [e for e in events if e["data"]["id"] == share_id]


def test_the_json_api_shares_and_announces_without_addresses(
    server: Server, smtp: tuple[Recorder, int], hooks: tuple[Receiver, str]
) -> None:
    recorder, (receiver, secret) = smtp[0], hooks
    friends = ["api.friend.one@example.org", "api.friend.two@example.org"]
    got = server.http.get(server.base + "/api/shares/token", params={"release": SEED_ID})
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Cache-Control"] == "no-store"
    offer = got.json()
    assert offer["min_fill_seconds"] == MIN_FILL and offer["expires_in"] == 3600
    time.sleep(MIN_FILL)
    body = {
        "release": SEED_ID,
        "to": friends,
        "from_name": "Ana",
        "from_email": "ana@example.net",
        "message": "Thought of you.",
        "token": offer["token"],
    }
    r = post_json(server, body)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == "application/json"
    share_id = r.json()["id"]
    assert r.json() == {"id": share_id}

    messages = [one_mail_to(recorder, friend) for friend in friends]
    for friend, message in zip(friends, messages, strict=True):
        [raw] = mail_to(recorder, friend)
        assert f"From: Ana via {SITE_TITLE} <{SENDER}>\r\n".encode() in raw.raw
        assert [a.addr_spec for a in message["To"].addresses] == [friend]
        assert [a.addr_spec for a in message["Reply-To"].addresses] == ["ana@example.net"]
        assert message["Message-ID"] == stable_message_id(server, share_id, friend)
        text, html = parts(message)
        assert f"{server.base}/s/{share_id}" in text and "Thought of you." in html
    assert messages[0]["Message-ID"] != messages[1]["Message-ID"]

    plain: list[Request] = wait_for(
        lambda: [
            r for r in receiver.requests if r.path == "/plain" and share_id.encode() in r.body
        ],
        5,
        what="share.created",
    )
    [event] = hook_calls(receiver, "/plain", share_id, secret)
    assert event["type"] == "share.created"
    assert event["data"] == {"id": share_id, "release": SEED_ID, "recipients": 2}
    for friend in friends:
        assert friend.encode() not in plain[0].body
    assert b"ana@example.net" not in plain[0].body
    [full] = wait_for(lambda: hook_calls(receiver, "/full", share_id, secret), 5)
    assert full["data"]["to"] == friends


def test_the_api_is_described(server: Server) -> None:
    r = server.get("/api/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/shares/token",
        "/api/shares",
        "/api/subscriptions/token",  # issue 16
        "/api/subscriptions",
    }
    assert "get" in spec["paths"]["/api/shares/token"]
    assert "post" in spec["paths"]["/api/shares"]


def test_an_address_with_an_international_domain_gets_its_email(
    server: Server, smtp: tuple[Recorder, int]
) -> None:
    # Given in its ASCII (punycode) form: email-validator accepts it and the share is
    # answered 202; the email must then go out to that address.
    friend = "friend@xn--bcher-kva.example"
    r = api_share(server, to=[friend])
    assert r.status_code == 202, r.text
    share_id = r.json()["id"]
    [status] = wait_for(
        lambda: [s for s in email_statuses(server, share_id) if s in ("delivered", "dead")],
        5,
        what="the email delivered or dead",
    )
    error = db(
        server,
        "SELECT last_error FROM deliveries WHERE channel = 'email' AND subject = :share",
        share=share_id,
    )
    assert status == "delivered", error
    assert mail_to(smtp[0], friend)
