"""Subscribing to email alerts over HTTP (issue 16), against a real `feedsvc serve`: the
token flow, answers alike whatever the address, the honeypot, the token's guards, the
limits, fields named in errors, cross-site posts, the confirm/manage pages and RFC 8058
one-click unsubscribe. What was stored and queued is read from the database itself."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
import requests

from feedsvc.alerts.tokens import confirm_token, manage_token
from feedsvc.sharing.keys import Signer, address_hash
from tests.conftest import SEED, db_rows
from tests.web.conftest import Server, metric, wait_for

MIN_FILL = 0.3
SECTION = "news-events"  # the seed release's section ("News & Events")


def alerts_config(**alerts: Any) -> dict[str, Any]:
    return {
        "alerts": {"min_fill_seconds": MIN_FILL, **alerts},
        "outbox": {"tick_seconds": 0.2},
        "languages.zh": {"title": "外交部新闻"},
    }


def started(root: Any, config: dict[str, Any]) -> Server:
    srv = Server(root, config)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start()
    wait_for(lambda: srv.get(f"/sections/{SECTION}/").status_code == 200, 10, what="published")
    return srv


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = started(tmp_path_factory.mktemp("alerts"), alerts_config(per_ip_per_hour=1000))
    yield srv
    srv.stop(clean_log=False)


# -- talking to the service ------------------------------------------------------------------


def token(srv: Server, **params: str) -> str:
    r = srv.http.get(srv.base + "/api/subscriptions/token", params=params, timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["min_fill_seconds"] == MIN_FILL and body["expires_in"] == 3600
    assert r.headers["cache-control"] == "no-store"
    return body["token"]


def post(srv: Server, body: Any, **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **headers}
    return srv.http.post(srv.base + "/api/subscriptions", data=data, headers=sent, timeout=5)


def subscribe(srv: Server, wait: float = MIN_FILL, **fields: Any) -> requests.Response:
    """A request through the JSON API, as documented: a token, a pause, the POST."""
    fields = {"token": token(srv), **fields}
    time.sleep(wait)
    return post(srv, fields)


def signer(srv: Server) -> Signer:
    return Signer((srv.root / "var" / "secret_key").read_bytes())


def subscriber(srv: Server, address: str) -> tuple[str, str, str] | None:
    """(id, status, frequency) of the address's subscription, or None."""
    rows = db_rows(
        srv.database_url,
        "SELECT id, status, frequency FROM subscribers WHERE address_hash = :h",
        h=address_hash(signer(srv), address),
    )
    return rows[0] if rows else None  # type: ignore[return-value]


def alerts_to(srv: Server, subscriber_id: str) -> list[dict[str, Any]]:
    rows = db_rows(
        srv.database_url,
        "SELECT payload FROM deliveries WHERE channel = 'alert' AND target = :id ORDER BY id",
        id=subscriber_id,
    )
    return [json.loads(p) if isinstance(p, str) else p for (p,) in rows]


def all_alerts(srv: Server) -> int:
    return db_rows(srv.database_url, "SELECT count(*) FROM deliveries WHERE channel = 'alert'")[0][
        0
    ]


def confirm_link(srv: Server, subscriber_id: str) -> str:
    import datetime as dt

    return "/alerts/confirm?t=" + confirm_token(signer(srv), subscriber_id, dt.datetime.now(dt.UTC))


# -- the token flow --------------------------------------------------------------------------


def test_a_request_is_pending_with_one_confirmation_queued(server: Server) -> None:
    r = subscribe(server, email="reporter@example.org", frequency="daily", sections=[SECTION])
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "check your inbox"}
    found = subscriber(server, "reporter@example.org")
    assert found is not None and found[1:] == ("pending", "daily")
    assert alerts_to(server, found[0]) == [{"kind": "confirm"}]


def test_the_answer_is_the_same_whatever_the_address(server: Server) -> None:
    known = "known@example.org"
    first = subscribe(server, email=known)
    [sub_id, _, _] = subscriber(server, known)  # type: ignore[misc]
    # Confirmed through its page, as the person would.
    assert (
        server.http.post(server.base + confirm_link(server, sub_id), timeout=5).status_code == 200
    )
    assert subscriber(server, known)[1] == "confirmed"  # type: ignore[index]
    again = subscribe(server, email=known)
    fresh = subscribe(server, email="never-seen@example.org")
    answers = {(r.status_code, r.content, r.headers["content-type"]) for r in (first, again, fresh)}
    assert len(answers) == 1, answers
    # A confirmed address asking again is sent its manage link, nothing else changes.
    assert alerts_to(server, sub_id) == [{"kind": "confirm"}, {"kind": "already"}]
    assert subscriber(server, known)[1] == "confirmed"  # type: ignore[index]


def test_the_honeypot_stores_nothing_and_sends_nothing(server: Server) -> None:
    before = all_alerts(server)
    trapped = subscribe(server, email="bot-victim@example.org", website="http://spam.example")
    real = subscribe(server, email="bot-control@example.org")
    assert (trapped.status_code, trapped.content) == (real.status_code, real.content)
    assert subscriber(server, "bot-victim@example.org") is None
    assert all_alerts(server) == before + 1  # the control's confirmation only
    # Told apart only where the operator looks: /metrics counts each outcome.
    samples = server.metrics()
    assert metric(samples, "feedsvc_alert_requests_total", outcome="trapped") >= 1
    assert metric(samples, "feedsvc_alert_requests_total", outcome="accepted") >= 1


def test_a_form_sent_too_fast_or_twice_is_refused_alike(server: Server) -> None:
    fast = subscribe(server, wait=0, email="fast@example.org")
    assert fast.status_code == 400 and set(fast.json()["fields"]) == {"token"}
    assert subscriber(server, "fast@example.org") is None
    spent = token(server)
    time.sleep(MIN_FILL)
    assert post(server, {"token": spent, "email": "once@example.org"}).status_code == 202
    twice = post(server, {"token": spent, "email": "twice@example.org"})
    forged = post(server, {"token": spent[:-2] + "AA", "email": "forged@example.org"})
    assert twice.status_code == forged.status_code == 400
    assert twice.content == forged.content == fast.content  # which check failed: not said
    assert subscriber(server, "twice@example.org") is None


def test_an_address_is_sent_at_most_two_confirmations_a_day(server: Server) -> None:
    for _ in range(4):
        assert subscribe(server, email="target@example.org").status_code == 202
    [sub_id, _, _] = subscriber(server, "target@example.org")  # type: ignore[misc]
    assert len(alerts_to(server, sub_id)) == 2  # alerts.per_address_per_day


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not an address"}, 422, "email"),
        ({"email": "a@example.org", "frequency": "hourly"}, 422, "frequency"),
        ({"email": "a@example.org", "sections": ["no-such-section"]}, 422, "sections"),
        ({"email": "a@example.org", "sections": "a/b"}, 400, "sections"),
        ({"email": "a@example.org", "language": "xx"}, 422, "language"),
        ({"email": "a@example.org", "colour": "red"}, 400, "colour"),
        ({"email": ["a@example.org"]}, 400, "email"),
        ({"email": "a@example.org\r\nBcc: victim@example.org"}, 400, "email"),
        ({}, 400, "email"),
    ],
)
def test_a_bad_field_is_named(
    server: Server, body: dict[str, Any], status: int, field: str
) -> None:
    r = subscribe(server, **body)
    assert r.status_code == status, r.text
    assert field in r.json()["fields"], r.json()


def test_what_is_no_request_is_refused(server: Server) -> None:
    assert post(server, b"[]").status_code == 400
    assert post(server, b"{").status_code == 400
    assert post(server, b"{}", **{"Content-Type": "text/plain"}).status_code == 415
    assert post(server, b"{" + b" " * 20000 + b"}").status_code == 413
    missing = post(server, {"email": "a@example.org"})
    assert missing.status_code == 400 and "token" in missing.json()["fields"]
    assert server.get("/api/subscriptions").status_code == 405
    assert server.get("/api/subscriptions/token?language=xx").status_code == 400


def test_a_post_from_another_site_is_refused(server: Server) -> None:
    fields = {"token": token(server), "email": "csrf@example.org"}
    time.sleep(MIN_FILL)
    r = post(server, fields, Origin="https://evil.example")
    assert r.status_code == 403
    assert subscriber(server, "csrf@example.org") is None
    form = server.http.post(
        server.base + "/alerts/",
        data={**fields, "frequency": "daily"},
        headers={"Sec-Fetch-Site": "cross-site"},
        timeout=5,
        allow_redirects=False,
    )
    assert form.status_code == 403
    assert subscriber(server, "csrf@example.org") is None


# -- the pages the links lead to -------------------------------------------------------------


def test_confirm_manage_and_one_click_unsubscribe(server: Server) -> None:
    address = "links@example.org"
    assert subscribe(server, email=address).status_code == 202
    [sub_id, _, _] = subscriber(server, address)  # type: ignore[misc]
    link = confirm_link(server, sub_id)
    page = server.get(link)
    assert page.status_code == 200 and "noindex" in page.text
    assert subscriber(server, address)[1] == "pending"  # type: ignore[index]  # a GET: no
    done = server.http.post(server.base + link, timeout=5)
    assert done.status_code == 200 and subscriber(server, address)[1] == "confirmed"  # type: ignore[index]
    manage = lxml.html.fromstring(done.content).xpath('//a[@class="manage"]/@href')[0]
    assert manage == "/alerts/manage?t=" + manage_token(signer(server), sub_id)
    assert server.get(manage).status_code == 200
    saved = server.http.post(
        server.base + manage, data={"frequency": "weekly", "sections": SECTION}, timeout=5
    )
    assert saved.status_code == 200
    assert subscriber(server, address)[2] == "weekly"  # type: ignore[index]
    # RFC 8058: the mail provider posts this body to the List-Unsubscribe URL, no cookies.
    one_click = "/alerts/unsubscribe?t=" + manage_token(signer(server), sub_id)
    assert subscriber(server, address)[1] == "confirmed"  # type: ignore[index]
    assert server.get(one_click).status_code == 200  # a GET asks, never unsubscribes
    r = requests.post(
        server.base + one_click,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert r.status_code == 200
    assert subscriber(server, address)[1] == "unsubscribed"  # type: ignore[index]
    assert server.get(manage).status_code == 400  # left: the link manages nothing now


def test_forged_and_foreign_links_do_nothing(server: Server) -> None:
    other = Signer(b"k" * 32)
    assert server.get("/alerts/confirm?t=" + "0" * 40).status_code == 400
    forged = manage_token(other, "0" * 32)
    assert server.get("/alerts/manage?t=" + forged).status_code == 400
    assert server.http.post(server.base + "/alerts/unsubscribe?t=" + forged).status_code == 400


def test_the_form_without_a_token_comes_back_with_one(server: Server) -> None:
    first = server.http.post(
        server.base + "/alerts/",
        data={"email": "nojs@example.org", "frequency": "daily", "token": ""},
        timeout=5,
        allow_redirects=False,
    )
    assert first.status_code == 200 and "press Subscribe again" in first.text
    [form] = lxml.html.fromstring(first.content).xpath('//form[@class="subscribe-form"]')
    values = dict(form.form_values())
    assert values["token"] and values["email"] == "nojs@example.org"
    time.sleep(MIN_FILL)
    sent = server.http.post(server.base + "/alerts/", data=values, timeout=5, allow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/alerts/?sent=1"
    assert subscriber(server, "nojs@example.org")[1:] == ("pending", "daily")  # type: ignore[index]


# -- the limits ------------------------------------------------------------------------------


def test_one_client_is_limited_with_retry_after(tmp_path: Any) -> None:
    srv = started(tmp_path, alerts_config(per_ip_per_hour=2))
    try:
        for n in range(2):
            assert subscribe(srv, email=f"r{n}@example.org").status_code == 202
        r = subscribe(srv, email="r3@example.org")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert subscriber(srv, "r3@example.org") is None
    finally:
        srv.stop(clean_log=False)


def test_a_language_has_its_own_page_and_its_subscribers_follow_it(server: Server) -> None:
    page = server.get("/zh/alerts/")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.content)
    assert doc.get("lang") == "zh" and "电子邮件提醒" in doc.findtext(".//h1")
    [form] = doc.xpath('//form[@class="subscribe-form"]')
    assert form.get("action") == "/zh/alerts/"
    values = {**dict(form.form_values()), "email": "zh-reader@example.org"}
    time.sleep(MIN_FILL)
    sent = server.http.post(
        server.base + "/zh/alerts/", data=values, timeout=5, allow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/zh/alerts/?sent=1"
    [(language,)] = db_rows(
        server.database_url,
        "SELECT language FROM subscribers WHERE address_hash = :h",
        h=address_hash(signer(server), "zh-reader@example.org"),
    )
    assert language == "zh"
    # The seed is in English only: Chinese has no section to follow yet.
    r = subscribe(server, email="zh2@example.org", language="zh", sections=[SECTION])
    assert r.status_code == 422 and "sections" in r.json()["fields"]


def test_each_of_alerts_and_shares_can_be_turned_off(tmp_path: Any) -> None:
    no_shares = started(tmp_path / "a", {**alerts_config(), "share": {"enabled": False}})
    try:
        assert no_shares.get("/api/openapi.json").status_code == 200  # still described
        assert no_shares.get("/api/subscriptions/token").status_code == 200
        assert no_shares.get("/api/shares/token?release=x").status_code == 404
    finally:
        no_shares.stop(clean_log=False)
    no_alerts = started(tmp_path / "b", {"alerts": {"enabled": False}})
    try:
        assert no_alerts.get("/alerts/").status_code == 404
        assert no_alerts.get("/api/subscriptions/token").status_code == 404
        assert no_alerts.get("/api/openapi.json").status_code == 200
    finally:
        no_alerts.stop(clean_log=False)


def test_a_tag_is_followed_from_its_page_and_an_unknown_one_is_named(tmp_path: Any) -> None:
    # Issue 17: what a subscriber follows may be a tag, "tag:<slug>": offered by the tag
    # page's form, checked against the tags the language has.
    srv = started(tmp_path, alerts_config(per_ip_per_hour=1000))
    try:
        (srv.items / "tagged.md").write_text(
            '+++\ntitle = "Vaccine plan"\nsection = "Health"\n'
            'date = 2026-11-27T09:00:00+08:00\ntags = ["Vaccines"]\n+++\n\nText.\n'
        )
        wait_for(lambda: srv.get("/tags/vaccines/").status_code == 200, 10, what="tag page")
        page = lxml.html.fromstring(srv.get("/tags/vaccines/").content)
        offered = page.xpath(
            '//form[contains(@class, "subscribe-form")]//input[@name="sections"][@checked]/@value'
        )
        assert offered == ["tag:vaccines"]
        assert (
            subscribe(srv, email="nurse@example.org", sections=["tag:vaccines"]).status_code == 202
        )
        [(followed,)] = db_rows(
            srv.database_url,
            "SELECT sections FROM subscribers WHERE address_hash = :h",
            h=address_hash(signer(srv), "nurse@example.org"),
        )
        assert json.loads(followed) == ["tag:vaccines"]
        for wrong in ("tag:no-such-tag", "tag:Not A Slug", "tag:"):
            r = subscribe(srv, email="x@example.org", sections=[wrong])
            assert r.status_code in (400, 422) and "sections" in r.json()["fields"], wrong
    finally:
        srv.stop(clean_log=False)
