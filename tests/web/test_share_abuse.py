""" "Suggest To A Friend" under abuse, against a real `feedsvc serve` and aiosmtpd: header
injection, markup in every field, floods, replayed and hurried tokens, the honeypot, bodies
that are too big or not what was asked for, releases that are not public, forged
X-Forwarded-For. Each is refused with the right status, sends nothing, and leaves the
service healthy; the log never holds a whole address.

Tests that count a per-IP limit each speak from an address of their own on the loopback
network (127.0.0.3, 127.0.0.4, ...), so one test's budget is not another's."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import lxml.html
import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.channels.smtp_server import Recorder
from tests.conftest import SEED, SEED_ID, newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server, wait_for
from tests.web.test_share_live import (
    AGAIN,
    MIN_FILL,
    SENDER,
    SITE_TITLE,
    api_share,
    db,
    email_count,
    email_statuses,
    fetch_token,
    field_error,
    healthy,
    mail_to,
    one_mail_to,
    parts,
    post_json,
    share_config,
    share_form,
    signer,
    visible,
)
from tests.web.test_share_live import post_form as send_form

FRIEND = "friend@example.org"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
EXPIRED = "the form expired or was already sent: load it again"
WITHDRAWN = "2021-05-01-to-withdraw"
EMBARGOED = "2021-05-02-under-embargo"
UNKNOWN = "2021-05-03-no-such-release"


class FromAddress(HTTPAdapter):
    """Connections from this local address: one client among many, to the service."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(pool_maxsize=16)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def client(address: str) -> requests.Session:
    http = requests.Session()
    http.mount("http://", FromAddress(address))
    return http


def token_for(srv: Server, release: str, age: float) -> str:
    """A form token the service itself would have issued for `release` `age` seconds ago:
    one it issued for the seed, with the release and the time changed, signed again."""
    payload = signer(srv).unsign("share", fetch_token(srv, SEED_ID))
    assert payload is not None
    _, issued, _, network = payload.rsplit("|", 3)
    unit = round(int(issued) / time.time())  # 1: seconds since the epoch; 1000: ms
    assert unit in (1, 1000), issued
    when = int((time.time() - age) * unit)
    return signer(srv).sign("share", f"{release}|{when}|{secrets.token_hex(8)}|{network}")


@contextmanager
def nothing_sent(srv: Server, recorder: Recorder, *addresses: str) -> Iterator[None]:
    """Nothing queued in the outbox (a share is answered only after its commit, so this is
    known at once), nothing at the SMTP server for these addresses, and the service fine."""
    before = email_count(srv)
    received = {address: len(mail_to(recorder, address)) for address in addresses}
    yield
    assert email_count(srv) == before, "an email was queued"
    for address, count in received.items():
        assert len(mail_to(recorder, address)) == count, f"mail to {address}"
    healthy(srv)


def fields_of(r: requests.Response) -> dict[str, str]:
    assert r.headers["Content-Type"] == "application/json", r.headers["Content-Type"]
    return r.json().get("fields", {})


def post_form(
    srv: Server,
    page: requests.Response,
    to: list[str],
    http: requests.Session | None = None,
    **fields: str,
) -> requests.Response:
    """The form on `page`, sent to the share route of the seed release (where its action
    points is test_share_live's business)."""
    action = f"{srv.base}/releases/{SEED_ID}/share"
    return send_form(srv, page, to, http, action=action, **fields)


def form_page(srv: Server, release: str = SEED_ID) -> requests.Response:
    """The form on a page of its own: with a token in it."""
    page = srv.get(f"/releases/{release}/share")
    assert page.status_code == 200
    return page


def release_page(srv: Server, release: str = SEED_ID) -> requests.Response:
    """The release's page: its form has no token (a browser without JavaScript)."""
    page = srv.get(f"/releases/{release}/")
    assert page.status_code == 200
    return page


def embargoed_text(rid: str) -> str:
    publish_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    return (
        "+++\n"
        f'id = "{rid}"\n'
        'title = "Under Embargo Until Tomorrow"\n'
        'section = "Statements"\n'
        "date = 2021-05-02T10:00:00+08:00\n"
        f"publish_at = {publish_at.isoformat()}\n"
        "+++\n\n"
        "Not yet.\n"
    )


# -- the services -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: Recorder) -> Iterator[Server]:
    """Default limits (10 shares an IP an hour), forms 0.3 s old, no trusted proxies."""
    srv = Server(tmp_path_factory.mktemp("share-abuse"), share_config(smtp.port))
    shutil.copy(SEED, srv.items / SEED.name)
    srv.write(f"{WITHDRAWN}.txt", newsroom_text("To Be Withdrawn", "May 1, 2021", ["Soon gone."]))
    srv.write("embargoed.md", embargoed_text(EMBARGOED))

    def ready(srv: Server) -> None:
        visible(srv, SEED_ID)
        visible(srv, WITHDRAWN)

    srv.start(ready=ready)
    yield srv
    assert srv.stop() in CLEAN_EXIT


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, smtp: Recorder) -> Iterator[Server]:
    """Behind a proxy on 127.0.0.1, with the default min_fill_seconds (3 s)."""
    config = share_config(smtp.port, min_fill_seconds=3.0)
    config["server"] = {"trusted_proxies": ["127.0.0.1"]}
    srv = Server(tmp_path_factory.mktemp("share-proxied"), config)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda srv: visible(srv, SEED_ID))
    yield srv
    assert srv.stop() in CLEAN_EXIT


# -- header injection ----------------------------------------------------------------------------

INJECTED = "Bcc: victim@example.org"


@pytest.mark.parametrize("field", ["to", "from_name", "from_email", "release", "subject"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_a_line_break_in_a_header_field_is_a_400_naming_it(
    server: Server, smtp: Recorder, field: str, newline: str
) -> None:
    body: dict[str, Any] = {
        "release": SEED_ID,
        "to": [FRIEND],
        "from_name": "Ana",
        "from_email": "ana@example.net",
        "token": token_for(server, SEED_ID, age=5),  # good in every other way
    }
    value = f"{body.get(field, 'Hello')}{newline}{INJECTED}"
    body[field] = [value] if field == "to" else value
    with nothing_sent(server, smtp, FRIEND, "victim@example.org"):
        r = post_json(server, body)
        assert r.status_code == 400, r.text
        assert field in fields_of(r), r.json()
        if field != "subject":  # `subject` is no field: that is what is wrong with it
            assert "line break" in fields_of(r)[field]


def test_a_line_break_in_the_form_comes_back_beside_its_field(
    server: Server, smtp: Recorder
) -> None:
    with nothing_sent(server, smtp, FRIEND, "victim@example.org"):
        # A browser sends a text input's value without line breaks; a bot need not.
        r = post_form(server, form_page(server), [FRIEND], from_name=f"Ana\r\n{INJECTED}")
        assert r.status_code == 400
        form = share_form(r.content)
        assert "line break" in field_error(form, "from_name")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"], ids=["LS", "PS", "NEL"])
def test_a_unicode_line_break_in_the_name_is_a_400_naming_it(
    server: Server, smtp: Recorder, separator: str
) -> None:
    # Some mail software splits header lines on these. The email channel refuses to write
    # such a From or Subject, so a share accepted with one is a share never sent.
    friend = f"separator.{ord(separator):x}@example.org"
    with nothing_sent(server, smtp, friend):
        r = api_share(server, client("127.0.0.5"), to=[friend], from_name=f"Ana{separator}Eve")
        assert r.status_code == 400, r.text
        assert "from_name" in fields_of(r)


def test_a_name_cannot_change_the_from_address(server: Server, smtp: Recorder) -> None:
    friend = "spoofed@example.org"
    name = 'Eve <eve>, "Bob" (x): y;'  # specials of an address list, but no address
    r = api_share(server, client("127.0.0.6"), to=[friend], from_name=name)
    assert r.status_code == 202, r.text
    message = one_mail_to(smtp, friend)
    [sender] = message["From"].addresses
    assert sender.addr_spec == SENDER
    assert sender.display_name == f"{name} via {SITE_TITLE}"
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None
    assert [a.addr_spec for a in message["To"].addresses] == [friend]


# -- markup in every field -----------------------------------------------------------------------


def assert_inert(page: bytes) -> bytes:
    """No markup from the input in the page: the only script is the site's own."""
    assert SCRIPT.encode() not in page and b"<img src=x" not in page
    doc = lxml.html.fromstring(page)
    assert {s.get("src") for s in doc.iter("script")} <= {"/assets/share.js"}
    assert not list(doc.iter("img"))
    assert not [e for e in doc.iter() if isinstance(e.tag, str) and e.get("onerror")]
    return page


def test_markup_in_every_field_comes_back_escaped(server: Server, smtp: Recorder) -> None:
    values = {
        "from_name": IMG,
        "from_email": SCRIPT,
        "message": f"{SCRIPT}\n{IMG}",
        "token": IMG,
    }
    with nothing_sent(server, smtp, FRIEND):
        # The addresses are not addresses: the form comes back, the values in it.
        r = post_form(server, form_page(server), [SCRIPT, IMG, FRIEND], **values)
        assert r.status_code == 422, r.text
        form = share_form(assert_inert(r.content))
        assert [e.value for e in form.inputs if e.name == "to"] == [SCRIPT, IMG, FRIEND]
        assert form.inputs["from_name"].value == IMG
        assert form.inputs["from_email"].value == SCRIPT
        assert form.inputs["message"].value == f"{SCRIPT}\n{IMG}"
        assert form.inputs["token"].value != IMG
        assert SCRIPT in field_error(form, "to")

        # A line break in the name (a 400) with markup elsewhere: the same.
        r = post_form(server, form_page(server), [FRIEND], from_name=f"{IMG}\n", message=SCRIPT)
        assert r.status_code == 400
        assert share_form(assert_inert(r.content)).inputs["message"].value == SCRIPT

        # In the path: nothing of it comes back.
        r = server.http.post(
            server.base + "/releases/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/share",
            data={"to": FRIEND, "token": "x"},
            timeout=5,
        )
        assert r.status_code == 404
        assert b"alert(1)" not in r.content


def test_markup_in_a_sent_share_is_text_in_the_email_and_not_on_the_confirmation(
    server: Server, smtp: Recorder
) -> None:
    r = api_share(server, to=[FRIEND], from_name=IMG, message=SCRIPT)
    assert r.status_code == 202, r.text
    message = one_mail_to(smtp, FRIEND)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (f"{IMG} via {SITE_TITLE}", SENDER)
    text, html = parts(message)
    assert f"> {SCRIPT}" in text and f"{IMG} wrote" in text  # plain text is plain
    assert SCRIPT not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = lxml.html.fromstring(html)
    assert not list(doc.iter("script")) and not list(doc.iter("img"))
    assert [q.text_content() for q in doc.iter("blockquote")] == [SCRIPT]
    assert f"{IMG} thought you would like this" in doc.text_content()

    # The form: the confirmation page shows nothing that was typed in.
    friend = "markup.form@example.org"
    again = post_form(server, release_page(server), [friend], from_name=IMG, message=SCRIPT)
    time.sleep(MIN_FILL)
    sent = post_form(server, again, [friend])
    assert sent.status_code == 303, sent.text
    confirmation = server.get(sent.headers["Location"])
    assert confirmation.status_code == 200
    for typed in (friend, "onerror", "alert(1)"):
        assert typed not in confirmation.text
    assert_inert(confirmation.content)
    one_mail_to(smtp, friend)


# -- a flood from one address ---------------------------------------------------------------------


def test_a_flood_from_one_address_gets_10_shares_then_429(server: Server, smtp: Recorder) -> None:
    total, lanes, address = 1000, 8, "127.0.0.3"
    sessions = [client(address) for _ in range(lanes)]
    before = email_count(server)

    def lane(n: int) -> list[Any]:
        return list(range(n, total, lanes))

    with ThreadPoolExecutor(lanes) as pool:
        # Tokens cost the service no write: a bot can have as many as it likes.
        tokens: dict[int, str] = {}

        def fetch(n: int) -> None:
            for i in lane(n):
                tokens[i] = fetch_token(server, SEED_ID, sessions[n])

        list(pool.map(fetch, range(lanes)))
        time.sleep(MIN_FILL)
        answers: dict[int, requests.Response] = {}

        def send(n: int) -> None:
            for i in lane(n):
                body = {"release": SEED_ID, "to": [f"flood{i}@example.org"], "token": tokens[i]}
                answers[i] = post_json(server, body, sessions[n])

        list(pool.map(send, range(lanes)))

    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [202] * 10 + [429] * (total - 10)
    for r in answers.values():
        if r.status_code == 429:
            assert 0 < int(r.headers["Retry-After"]) <= 3600
            assert r.json() == {"error": "too many suggestions for now: try again later"}
    assert email_count(server) == before + 10
    accepted = [i for i, r in answers.items() if r.status_code == 202]
    wait_for(
        lambda: all(mail_to(smtp, f"flood{i}@example.org") for i in accepted), 10, what="10 emails"
    )

    # The form says the same, with the form again.
    http = sessions[0]
    again = post_form(server, release_page(server), ["flood.form@example.org"], http)
    time.sleep(MIN_FILL)
    refused = post_form(server, again, ["flood.form@example.org"], http)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many suggestions" in refused.text

    # Tokens that are not good are refused before the database is asked.
    before = stored(server)
    for n in range(100):
        body = {"release": SEED_ID, "to": [f"flood.bad{n}@example.org"], "token": f"x{n}.y"}
        r = post_json(server, body, http)
        assert (r.status_code, r.json()) == (400, {"error": EXPIRED})
    assert stored(server) == before
    time.sleep(0.5)
    flood = [r for r in list(smtp.received) if r.rcpt_tos[0].startswith("flood")]
    assert len(flood) == 10
    healthy(server)


def stored(srv: Server) -> tuple[int, int]:
    """Shares stored, and form tokens spent."""
    [(shares,)] = db(srv, "SELECT count(*) FROM shares")
    [(tokens,)] = db(srv, "SELECT count(*) FROM used_tokens")
    return shares, tokens


def test_x_forwarded_for_is_ignored_without_trusted_proxies(server: Server, smtp: Recorder) -> None:
    http = client("127.0.0.4")
    answers = []
    tokens = [fetch_token(server, SEED_ID, http) for _ in range(12)]
    time.sleep(MIN_FILL)
    for n, token in enumerate(tokens):
        body = {"release": SEED_ID, "to": [f"forwarded{n}@example.org"], "token": token}
        answers.append(post_json(server, body, http, **{"X-Forwarded-For": f"198.51.100.{n}"}))
    assert [r.status_code for r in answers] == [202] * 10 + [429] * 2
    healthy(server)


# -- tokens -------------------------------------------------------------------------------------


def test_a_replayed_expired_or_forged_token_gets_one_and_the_same_400(
    server: Server, smtp: Recorder
) -> None:
    token = fetch_token(server, SEED_ID)
    time.sleep(MIN_FILL)
    first = post_json(server, {"release": SEED_ID, "to": ["replay@example.org"], "token": token})
    assert first.status_code == 202
    one_mail_to(smtp, "replay@example.org")
    head, _, mac = token.partition(".")
    refused = {
        "replayed": token,
        "expired": token_for(server, SEED_ID, age=3600 + 5),
        "forged": f"{head}.{mac[::-1]}",
        "other-release": token_for(server, WITHDRAWN, age=5),
        "garbage": "not a token",
    }
    with nothing_sent(server, smtp, *(f"replay.{kind}@example.org" for kind in refused)):
        for kind, bad in refused.items():
            body = {"release": SEED_ID, "to": [f"replay.{kind}@example.org"], "token": bad}
            r = post_json(server, body)
            assert (r.status_code, r.json()) == (400, {"error": EXPIRED}), kind
        # The form: the same notice, and a fresh token to try again with.
        page = form_page(server)
        form = share_form(page.content)
        values = {"token": token}
        r = post_form(server, page, ["replay.form@example.org"], **values)
        assert r.status_code == 400
        assert AGAIN in r.text
        fresh = share_form(r.content).inputs["token"].value
        assert fresh and fresh != token and fresh != form.inputs["token"].value


def test_a_token_used_before_min_fill_seconds_is_refused_like_a_replayed_one(
    proxied: Server, smtp: Recorder
) -> None:
    with nothing_sent(proxied, smtp, "hurried@example.org", "hurried.form@example.org"):
        token = fetch_token(proxied, SEED_ID)
        body = {"release": SEED_ID, "to": ["hurried@example.org"], "token": token}
        r = post_json(proxied, body)
        assert (r.status_code, r.json()) == (400, {"error": EXPIRED})
        # The form, filled in by a bot the moment it got it.
        again = post_form(proxied, release_page(proxied), ["hurried.form@example.org"])
        assert again.status_code == 200
        r = post_form(proxied, again, ["hurried.form@example.org"])
        assert r.status_code == 400 and AGAIN in r.text


def test_min_fill_seconds_counts_from_when_the_token_was_issued(
    server: Server, smtp: Recorder
) -> None:
    # Fetch the token late in a second, send it 0.1 s later: far sooner than 0.3 s.
    time.sleep((0.85 - time.time() % 1) % 1)
    http = client("127.0.0.7")
    token = fetch_token(server, SEED_ID, http)
    time.sleep(0.1)
    with nothing_sent(server, smtp, "too.soon@example.org"):
        body = {"release": SEED_ID, "to": ["too.soon@example.org"], "token": token}
        r = post_json(server, body, http)
        assert (r.status_code, r.json()) == (400, {"error": EXPIRED})


# -- the honeypot ---------------------------------------------------------------------------------


def test_a_filled_in_honeypot_looks_like_success_and_sends_nothing(
    server: Server, smtp: Recorder
) -> None:
    with nothing_sent(server, smtp, "trap.api@example.org", "trap.form@example.org"):
        r = api_share(server, to=["trap.api@example.org"], website="http://spam.example/")
        assert r.status_code == 202
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", r.json()["id"])
        again = post_form(server, release_page(server), ["trap.form@example.org"])
        time.sleep(MIN_FILL)
        r = post_form(server, again, ["trap.form@example.org"], website="http://spam.example/")
        assert r.status_code == 303
        assert re.fullmatch(r"/shares/[A-Za-z0-9_-]{16}/", r.headers["Location"])
    time.sleep(0.5)  # two outbox ticks
    assert not mail_to(smtp, "trap.api@example.org") and not mail_to(smtp, "trap.form@example.org")


def test_the_honeypot_leads_to_a_confirmation_page_like_any_share(
    server: Server, smtp: Recorder
) -> None:
    # A bot that follows the redirect must not learn that it was caught.
    again = post_form(server, release_page(server), ["trap.follow@example.org"])
    time.sleep(MIN_FILL)
    r = post_form(server, again, ["trap.follow@example.org"], website="http://spam.example/")
    assert r.status_code == 303
    page = server.get(r.headers["Location"])
    assert page.status_code == 200
    assert "Your suggestion is on its way" in page.text


# -- bodies ---------------------------------------------------------------------------------------

LONG_MESSAGE = "x" * 501  # share.message_max_chars is 500


@pytest.mark.parametrize(
    ("data", "content_type", "status", "field"),
    [
        pytest.param(b"{}" + b" " * 17_000, "application/json", 413, None, id="oversized"),
        pytest.param(b'{"release": "x"}', "text/plain", 415, None, id="wrong-type"),
        pytest.param(b'{"release": ', "application/json", 400, None, id="malformed"),
        pytest.param(b"\xff\xfe{}", "application/json", 400, None, id="not-utf8"),
        pytest.param(b"[]", "application/json", 400, None, id="array"),
        pytest.param({"bogus": 1}, "application/json", 400, "bogus", id="unknown-field"),
        pytest.param({"to": 5}, "application/json", 400, "to", id="to-not-a-list"),
        pytest.param(
            {"to": [f"friend{n}@example.org" for n in range(4)]},
            "application/json",
            422,
            "to",
            id="4-recipients",
        ),
        pytest.param({"to": ["friend@"]}, "application/json", 422, "to", id="invalid-to"),
        pytest.param({"message": LONG_MESSAGE}, "application/json", 422, "message", id="long"),
        pytest.param({"from_name": "x" * 65}, "application/json", 422, "from_name", id="name"),
    ],
)
def test_a_bad_body_is_refused_with_the_right_status(
    server: Server,
    smtp: Recorder,
    data: bytes | dict[str, Any],
    content_type: str,
    status: int,
    field: str | None,
) -> None:
    if isinstance(data, dict):
        body = {"release": SEED_ID, "to": [FRIEND], "token": token_for(server, SEED_ID, 5)}
        data = json.dumps(body | data).encode()
    with nothing_sent(server, smtp, FRIEND):
        r = server.http.post(
            server.base + "/api/shares",
            data=data,
            headers={"Content-Type": content_type},
            timeout=5,
        )
        assert r.status_code == status, r.text
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["error"]
        if field is not None:
            assert field in r.json()["fields"], r.json()


def test_a_body_streamed_past_16_kb_is_a_413(server: Server, smtp: Recorder) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked
        yield b'{"message": "'
        for _ in range(20):
            yield b"x" * 1024
        yield b'"}'

    with nothing_sent(server, smtp):
        for path, ctype in (
            ("/api/shares", "application/json"),
            (f"/releases/{SEED_ID}/share", "application/x-www-form-urlencoded"),
        ):
            r = server.http.post(
                server.base + path, data=chunks(), headers={"Content-Type": ctype}, timeout=5
            )
            assert r.status_code == 413, path


def test_the_form_refuses_what_a_browser_would_not_send(server: Server, smtp: Recorder) -> None:
    action = f"{server.base}/releases/{SEED_ID}/share"
    with nothing_sent(server, smtp, FRIEND, *(f"four{n}@example.org" for n in range(4))):
        r = server.http.post(action, json={"to": [FRIEND]}, timeout=5)
        assert r.status_code == 415
        r = server.http.post(action, data={"to": FRIEND, "message": "x" * 17_000}, timeout=5)
        assert r.status_code == 413
        r = server.http.post(
            action,
            data=[("to", f"four{n}@example.org") for n in range(4)]
            + [("token", token_for(server, SEED_ID, 5))],
            timeout=5,
        )
        assert r.status_code == 422
        assert "at most 3" in field_error(share_form(r.content), "to")


# -- releases that are not public ------------------------------------------------------------------


def assert_no_such_release(srv: Server, rid: str, token: str) -> None:
    r = srv.http.get(srv.base + "/api/shares/token", params={"release": rid}, timeout=5)
    assert (r.status_code, r.json()) == (404, {"error": "no such release"}), rid
    assert srv.get(f"/releases/{rid}/share").status_code == 404
    body = {"release": rid, "to": [FRIEND], "token": token}
    r = post_json(srv, body)
    assert (r.status_code, r.json()) == (404, {"error": "no such release"}), rid
    r = srv.http.post(
        f"{srv.base}/releases/{rid}/share",
        data={"to": FRIEND, "token": token},
        timeout=5,
        allow_redirects=False,
    )
    assert r.status_code == 404, rid
    assert "There is no such release." in r.text


def test_an_unknown_or_embargoed_release_is_a_404_everywhere(
    server: Server, smtp: Recorder
) -> None:
    assert server.get(f"/releases/{EMBARGOED}/").status_code == 404
    with nothing_sent(server, smtp, FRIEND):
        for rid in (UNKNOWN, EMBARGOED):
            # Even with a token the service signed: one for a release nobody may see yet.
            assert_no_such_release(server, rid, token_for(server, rid, age=5))


def test_a_withdrawn_release_is_a_404_everywhere(server: Server, smtp: Recorder) -> None:
    token = fetch_token(server, WITHDRAWN)  # while it was public
    time.sleep(MIN_FILL)
    (server.items / f"{WITHDRAWN}.txt").unlink()
    wait_for(lambda: server.get(f"/releases/{WITHDRAWN}/").status_code == 410, 5, what="410")
    with nothing_sent(server, smtp, FRIEND):
        assert_no_such_release(server, WITHDRAWN, token)


# -- X-Forwarded-For behind a trusted proxy ----------------------------------------------------


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(
    proxied: Server, smtp: Recorder
) -> None:
    direct = client("127.0.0.2")  # not a trusted proxy: its X-Forwarded-For is ignored
    plan = (
        [("127.0.0.1", "203.0.113.9")] * 11
        + [("127.0.0.1", "203.0.113.10"), ("127.0.0.1", "203.0.113.10, 127.0.0.1")]
        + [("127.0.0.2", "203.0.113.9")]
    )
    # Each token is fetched as the client will post it: from the same network.
    tokens = [
        (proxied.http if peer == "127.0.0.1" else direct)
        .get(
            proxied.base + "/api/shares/token",
            params={"release": SEED_ID},
            headers={"X-Forwarded-For": forwarded},
            timeout=5,
        )
        .json()["token"]
        for peer, forwarded in plan
    ]
    time.sleep(3.0)  # min_fill_seconds
    statuses = []
    for n, ((peer, forwarded), token) in enumerate(zip(plan, tokens, strict=True)):
        body = {"release": SEED_ID, "to": [f"proxied{n}@example.org"], "token": token}
        http = proxied.http if peer == "127.0.0.1" else direct
        statuses.append(
            post_json(proxied, body, http, **{"X-Forwarded-For": forwarded}).status_code
        )
    assert statuses == [202] * 10 + [429] + [202, 202] + [202]
    healthy(proxied)


# -- the log ------------------------------------------------------------------------------------


def test_the_log_never_holds_a_whole_address(
    server: Server, proxied: Server, smtp: Recorder
) -> None:
    def idle(srv: Server) -> bool:
        return not db(
            srv,
            "SELECT 1 FROM deliveries WHERE channel = 'email' AND status IN ('pending', 'sending')",
        )

    wait_for(lambda: idle(server) and idle(proxied), 10, what="the outboxes idle")
    # A server that names the address it refuses, as real ones do.
    smtp.rcpt_replies.append(f"550 5.1.1 <{FRIEND}>: Recipient address rejected")
    r = api_share(server, client("127.0.0.8"), to=[FRIEND], from_email="ana.logged@example.net")
    assert r.status_code == 202, r.text
    wait_for(lambda: email_statuses(server, r.json()["id"]) == ["dead"], 5, what="dead")
    time.sleep(0.2)
    logs = server.log() + proxied.log() + server.access_log() + proxied.access_log()
    assert "f…@example.org" in server.log(), "the refusal is logged, masked"
    addresses = set(re.findall(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]+", logs))
    assert FRIEND not in logs
    assert addresses == set(), addresses
