"""What an outside review broke (issue 11), against a real `feedsvc serve` and aiosmtpd:
spoofed client addresses, cross-site posts and harvested tokens, names that carry links,
address variants, /metrics, release titles no subject could carry, deep JSON.

Tests that count a per-IP limit speak from an address of their own on the loopback
network, or through the trusted proxy with an X-Forwarded-For of their own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.smtp_server import Recorder
from tests.conftest import SEED, SEED_ID, newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server
from tests.web.test_share_abuse import client, fields_of, nothing_sent
from tests.web.test_share_live import (
    MIN_FILL,
    ZWSP,
    api_share,
    email_count,
    mail_to,
    one_mail_to,
    parts,
    post_json,
    share_config,
    unsubscribe_url,
    visible,
)

TITLED = "2021-06-01-titled"
# A soft hyphen, an emoji made with a zero-width joiner, a left-to-right mark, Arabic.
HARD_TITLE = "Co\u00adoperation 👩\u200d💻 agreed \u200eتعاون"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: Recorder) -> Iterator[Server]:
    """No trusted proxies, /metrics for 127.0.0.1 only."""
    config = share_config(smtp.port)
    config["server"] = {"metrics_allow": ["127.0.0.1"]}
    srv = Server(tmp_path_factory.mktemp("share-hardening"), config)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.write(f"{TITLED}.txt", newsroom_text(HARD_TITLE, "June 1, 2021", ["Both sides agreed."]))

    def ready(srv: Server) -> None:
        visible(srv, SEED_ID)
        visible(srv, TITLED)

    srv.start(ready=ready)
    yield srv
    assert srv.stop() in CLEAN_EXIT


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, smtp: Recorder) -> Iterator[Server]:
    """Behind a proxy on 127.0.0.1."""
    config = share_config(smtp.port)
    config["server"] = {"trusted_proxies": ["127.0.0.1"]}
    srv = Server(tmp_path_factory.mktemp("share-hardening-proxied"), config)
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda srv: visible(srv, SEED_ID))
    yield srv
    assert srv.stop() in CLEAN_EXIT


def token_as(srv: Server, forwarded: str, http: requests.Session | None = None) -> str:
    r = (http or srv.http).get(
        srv.base + "/api/shares/token",
        params={"release": SEED_ID},
        headers={"X-Forwarded-For": forwarded},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]


def share_as(srv: Server, forwarded: str, token: str, to: str, **headers: str) -> requests.Response:
    body = {"release": SEED_ID, "to": [to], "token": token}
    return post_json(srv, body, **{"X-Forwarded-For": forwarded, **headers})


# -- 1. client address spoofing ------------------------------------------------------------------


def test_x_forwarded_for_from_this_host_is_not_trusted_by_default(
    server: Server, smtp: Recorder
) -> None:
    """uvicorn trusted 127.0.0.1's X-Forwarded-For: 25 shares where the limit is 10."""
    tokens = [token_as(server, f"198.51.100.{n}") for n in range(14)]
    time.sleep(MIN_FILL)
    statuses = [
        share_as(server, f"198.51.100.{n}", t, f"spoof{n}@example.org").status_code
        for n, t in enumerate(tokens)
    ]
    assert statuses == [202] * 10 + [429] * 4
    time.sleep(0.7)  # the access log is flushed twice a second
    clients = {json.loads(line)["client"] for line in server.access_log().splitlines()}
    assert not {c for c in clients if c.startswith("198.51.100")}, clients


def test_the_access_log_names_the_forwarded_client_only_behind_a_trusted_proxy(
    proxied: Server,
) -> None:
    proxied.http.get(proxied.base + "/feed.xml", headers={"X-Forwarded-For": "203.0.113.77"})
    client("127.0.0.2").get(proxied.base + "/feed.xml", headers={"X-Forwarded-For": "192.0.2.9"})
    time.sleep(0.7)
    clients = [json.loads(line)["client"] for line in proxied.access_log().splitlines()]
    assert "203.0.113.0" in clients  # through the proxy: the reader's network
    assert "192.0.2.0" not in clients  # 127.0.0.2 is no proxy of ours
    assert "127.0.0.0" in clients


# -- 2. cross-site posting and harvested tokens ----------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_share_posted_from_another_site_is_a_403_that_says_why(
    server: Server, smtp: Recorder, headers: dict[str, str]
) -> None:
    http = client("127.0.0.20")
    with nothing_sent(server, smtp, "victim-cs@example.org"):
        r = api_share(server, http, to=["victim-cs@example.org"], headers=headers)
        assert r.status_code == 403, r.text
        assert "accepted only from pages of " + server.base in r.json()["error"]
        page = http.get(f"{server.base}/releases/{SEED_ID}/share", timeout=5)
        form = re.search(rb'name="token" value="([^"]+)"', page.content)
        assert form is not None
        time.sleep(MIN_FILL)
        r = http.post(
            f"{server.base}/releases/{SEED_ID}/share",
            data={"to": "victim-cs@example.org", "token": form[1].decode()},
            headers=headers,
            allow_redirects=False,
            timeout=5,
        )
        assert r.status_code == 403
        assert b"accepted only from pages of" in r.content


def test_a_share_from_the_sites_own_pages_is_accepted(server: Server, smtp: Recorder) -> None:
    own = {"Origin": server.base, "Sec-Fetch-Site": "same-origin"}
    r = api_share(server, client("127.0.0.21"), to=["own-origin@example.org"], headers=own)
    assert r.status_code == 202, r.text
    one_mail_to(smtp, "own-origin@example.org")
    # A page of ours under a strict referrer policy: the browser says `Origin: null`, and
    # (a header no page can set) that the request is same-origin.
    strict = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    r = api_share(server, client("127.0.0.24"), to=["own-strict@example.org"], headers=strict)
    assert r.status_code == 202, r.text


def test_a_token_is_good_only_from_the_network_that_fetched_it(
    proxied: Server, smtp: Recorder
) -> None:
    harvested = token_as(proxied, "203.0.113.5")
    near = token_as(proxied, "203.0.113.6")
    v6 = token_as(proxied, "2001:db8:7:7::1")
    v6_far = token_as(proxied, "2001:db8:7:7::2")
    time.sleep(MIN_FILL)
    with nothing_sent(proxied, smtp, "harvested@example.org"):
        r = share_as(proxied, "198.51.100.5", harvested, "harvested@example.org")
        assert r.status_code == 400
        assert r.json()["error"] == "the form expired or was already sent: load it again"
        r = share_as(proxied, "2001:db8:7:8::1", v6_far, "harvested@example.org")
        assert r.status_code == 400
    # The same /24, the same /64: an address that moved within its provider's pool.
    assert share_as(proxied, "203.0.113.200", near, "near@example.org").status_code == 202
    assert share_as(proxied, "2001:db8:7:7::ffff", v6, "near6@example.org").status_code == 202


def test_the_operator_shares_without_a_browser_or_a_token(server: Server, smtp: Recorder) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "share", SEED_ID, "--to", "by-operator@example.org"],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    one_mail_to(smtp, "by-operator@example.org", timeout=10)


# -- 4. names that carry links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "https://evil.example/login Claim your prize",
        "ｗｗｗ．evil．example",
        "Visit evil.example now",
        "ana@evil.example",
        "mailto:ana",
    ],
)
def test_a_name_that_carries_a_link_is_a_422_naming_it(
    server: Server, smtp: Recorder, name: str
) -> None:
    with nothing_sent(server, smtp, "named@example.org"):
        r = api_share(server, client("127.0.0.22"), to=["named@example.org"], from_name=name)
        assert r.status_code == 422, r.text
        assert set(fields_of(r)) == {"from_name"}


def test_no_link_survives_in_the_message(server: Server, smtp: Recorder) -> None:
    message = (
        "see evil.example/login, mailto:boss@evil.example, ｗｗｗ．evil．example "
        "and https:\\\\evil.example\\x"
    )
    r = api_share(server, client("127.0.0.23"), to=["defused@example.org"], message=message)
    assert r.status_code == 202, r.text
    text, html = parts(one_mail_to(smtp, "defused@example.org"))
    for body in (text, html):
        assert "evil.example" not in body and "evil．example" not in body
        assert f"evil.{ZWSP}example/login" in body
        assert f"mailto:{ZWSP}boss@evil.{ZWSP}example" in body
        assert f"https:{ZWSP}\\\\evil.{ZWSP}example" in body
    assert not re.search(r'href="[^"]*evil', html)


# -- 5. address variants ------------------------------------------------------------------------


def test_address_variants_share_one_daily_limit(server: Server, smtp: Recorder) -> None:
    variants = [
        "victim@example.org",
        "Victim+1@example.org",
        "victim+news@EXAMPLE.org",
        "victim+2@example.org",
    ]
    statuses = [
        api_share(server, client(f"127.0.0.{30 + n}"), to=[v]).status_code
        for n, v in enumerate(variants)
    ]
    assert statuses == [202, 202, 202, 429]  # per_recipient_per_day = 3
    gmail = ["j.doe@gmail.com", "jdoe+x@googlemail.com", "J.D.O.E@gmail.com", "jdoe@gmail.com"]
    statuses = [
        api_share(server, client(f"127.0.0.{40 + n}"), to=[v]).status_code
        for n, v in enumerate(gmail)
    ]
    assert statuses == [202, 202, 202, 429]


def test_one_share_to_two_variants_is_one_email(server: Server, smtp: Recorder) -> None:
    before = email_count(server)
    r = api_share(server, client("127.0.0.50"), to=["pair@example.org", "pair+x@example.org"])
    assert r.status_code == 202, r.text
    assert email_count(server) == before + 1


def test_an_unsubscribed_address_gets_nothing_at_any_variant(
    server: Server, smtp: Recorder
) -> None:
    r = api_share(server, client("127.0.0.51"), to=["a5@example.org"])
    assert r.status_code == 202
    message = one_mail_to(smtp, "a5@example.org")
    url = unsubscribe_url(message)
    assert requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=5).status_code == 200
    for n, variant in enumerate(["a5+x@example.org", "A5+news@Example.org"]):
        r = api_share(server, client(f"127.0.0.{52 + n}"), to=[variant])
        assert r.status_code == 202  # the sharer is told nothing
    time.sleep(1.0)  # the dispatcher ticks every 0.2 s
    mailbox = re.compile(r"a5(\+.*)?@example\.org", re.IGNORECASE)
    got = [to for m in list(smtp.received) for to in m.rcpt_tos if mailbox.fullmatch(to)]
    assert got == ["a5@example.org"]


# -- 8. /metrics --------------------------------------------------------------------------------


def test_metrics_answer_only_the_allowed_clients(server: Server, proxied: Server) -> None:
    assert server.get("/metrics").status_code == 200  # 127.0.0.1
    r = client("127.0.0.60").get(server.base + "/metrics", timeout=5)
    assert r.status_code == 404 and b"feedsvc_shares_total" not in r.content
    # Behind a proxy the reader's address decides, not the proxy's (the default: loopback).
    r = proxied.http.get(proxied.base + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 404
    assert proxied.get("/metrics").status_code == 200


# -- 10. titles no subject could carry ---------------------------------------------------------


def test_a_title_with_soft_hyphens_joiners_and_bidi_marks_is_emailed(
    server: Server, smtp: Recorder
) -> None:
    r = api_share(server, client("127.0.0.61"), to=["titled@example.org"], release=TITLED)
    assert r.status_code == 202, r.text
    message = one_mail_to(smtp, "titled@example.org")
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"Someone suggests: {HARD_TITLE}"
    [received] = mail_to(smtp, "titled@example.org")
    assert received.raw.isascii()  # encoded words (RFC 2047), nothing raw


# -- 11. deep JSON ------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400(server: Server, smtp: Recorder) -> None:
    for body in (b"[" * 15_000, b'{"a":' * 2_500 + b"1" + b"}" * 2_500, b"[" * 5000 + b"]" * 5000):
        r = post_json(server, body)
        assert r.status_code == 400, (r.status_code, r.text[:200])
    assert server.get("/healthz").status_code == 200


def nested(depth: int, kind: str) -> Any:
    value: Any = "x"
    for n in range(depth):
        value = [value] if kind[n % len(kind)] == "[" else {"to": value}
    return value


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=st.integers(1, 20_000), kind=st.sampled_from(["[", "{", "[{", "{[["]))
def test_json_nested_to_any_depth_is_never_a_5xx(server: Server, depth: int, kind: str) -> None:
    text = json.dumps(nested(min(depth, 900), kind))  # json.dumps itself recurses
    if depth > 900:
        text = "[" * (depth - 900) + text + "]" * (depth - 900)
    r = post_json(server, text.encode())
    assert r.status_code in (400, 413, 422), (r.status_code, r.text[:200])


def test_nothing_above_left_the_service_unwell(server: Server, proxied: Server) -> None:
    for srv in (server, proxied):
        assert srv.get("/healthz").status_code == 200
        assert "Traceback" not in srv.log()
