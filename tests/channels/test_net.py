from __future__ import annotations

import datetime as dt
import re
import socket
import time
from email.utils import format_datetime

import pytest
import requests

from feedsvc.channels import DeliveryFailed, PermanentFailure, TransientFailure
from feedsvc.channels.net import (
    MAX_REPLY_BYTES,
    Reply,
    TargetForbidden,
    address_problem,
    check_target,
    failure_for,
    http_session,
    parse_retry_after,
    post,
)
from tests.channels.http_receiver import Receiver

PUBLIC = "93.184.216.34"
NOW = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)


def public(host: str, port: int) -> list[str]:
    """A resolver that says every name is public, as a rebinding DNS server would."""
    return [PUBLIC]


def refuse(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} was resolved")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a link-local address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "a private address"),  # NAT64 around 10.0.0.1
        ("::7f00:1", "a reserved address"),
        ("fec0::1", "a site-local address"),
        ("100.64.0.1", "not a public address"),
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert address_problem(address) == kind


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://127.0.0.1/", "127.0.0.1, a loopback address"),
        ("https://10.0.0.1/hook", "10.0.0.1, a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("https://[::1]:8443/", "::1, a loopback address"),
    ],
)
def test_address_literals_are_refused_without_resolving(url: str, shown: str) -> None:
    with pytest.raises(TargetForbidden) as e:
        check_target(url, allow_private=False, resolve=refuse)
    assert str(e.value) == (
        f"{url} resolves to {shown}; set outbox.allow_private_targets for development"
    )


@pytest.mark.parametrize("host", ["localhost", "2130706433"])  # 2130706433 is 127.0.0.1
def test_names_that_resolve_to_loopback_are_refused(host: str) -> None:
    with pytest.raises(
        TargetForbidden, match=re.escape("resolves to 127.0.0.1, a loopback address")
    ):
        check_target(f"https://{host}/", allow_private=False)


def test_http_is_refused() -> None:
    with pytest.raises(TargetForbidden, match=r"^http://example\.org/ is not https; set outbox"):
        check_target("http://example.org/", allow_private=False, resolve=public)


def test_a_public_name_passes_and_is_resolved_with_its_port() -> None:
    asked = []
    check_target(
        "https://hooks.example.org:8443/x",
        allow_private=False,
        resolve=lambda host, port: asked.append((host, port)) or [PUBLIC, "2606:4700::1111"],
    )
    assert asked == [("hooks.example.org", 8443)]


def test_one_private_address_among_public_ones_is_refused() -> None:
    with pytest.raises(TargetForbidden, match=re.escape("resolves to 10.1.2.3, a private address")):
        check_target(
            "https://hooks.example.org/",
            allow_private=False,
            resolve=lambda h, p: [PUBLIC, "10.1.2.3"],
        )


def test_a_name_that_does_not_resolve_is_transient() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(TransientFailure) as e:
        check_target("https://nowhere.example.org/", allow_private=False, resolve=fail)
    assert not isinstance(e.value, PermanentFailure)
    assert "cannot resolve nowhere.example.org: Name or service not known" in str(e.value)


def test_allow_private_allows_http_and_any_address() -> None:
    check_target("http://127.0.0.1:8080/", allow_private=True, resolve=refuse)
    check_target("https://10.0.0.1/", allow_private=True, resolve=refuse)
    with pytest.raises(TargetForbidden, match="not an absolute http"):
        check_target("ftp://127.0.0.1/", allow_private=True, resolve=refuse)


def test_the_connection_refuses_a_non_public_peer(receiver: Receiver) -> None:
    # No pre-check here: only the check on the connected socket stands in the way.
    with pytest.raises(
        TargetForbidden, match=re.escape("connected to 127.0.0.1, a loopback address")
    ):
        http_session(allow_private=False).post(receiver.url, data=b"x", timeout=2)
    assert receiver.requests == []
    http_session(allow_private=True).post(receiver.url, data=b"x", timeout=2)
    assert len(receiver.requests) == 1


def test_rebinding_is_caught_after_a_public_pre_check(receiver: Receiver) -> None:
    url = f"https://localhost:{receiver.port}/hook"
    with pytest.raises(TargetForbidden) as e:
        post(
            http_session(allow_private=False),
            url,
            body=b"{}",
            headers={},
            timeout=2,
            allow_private=False,
            resolve=public,  # the pre-check sees a public address...
        )
    # ...but the socket reached 127.0.0.1, and nothing, not even a TLS hello, was sent.
    assert str(e.value) == (
        f"{url} connected to 127.0.0.1, a loopback address; "
        "set outbox.allow_private_targets for development"
    )
    assert receiver.requests == []


def test_proxies_from_the_environment_are_ignored(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Receiver() as proxy:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        requests.Session().post(receiver.url, data=b"x", timeout=2)
        assert len(proxy.requests) == 1  # the environment does name a proxy...
        http_session(allow_private=True).post(receiver.url, data=b"x", timeout=2)
        assert len(proxy.requests) == 1  # ...which the channels' session does not use
        assert len(receiver.requests) == 1


def send(url: str, timeout: float = 2.0) -> Reply:
    return post(
        http_session(allow_private=True),
        url,
        body=b"{}",
        headers={},
        timeout=timeout,
        allow_private=True,
    )


def test_a_huge_answer_is_read_only_so_far(receiver: Receiver) -> None:
    receiver.answer(status=200, body=b"x" * 10_000_000)
    started = time.monotonic()
    reply = send(receiver.url)
    assert reply.status == 200
    assert len(reply.body) == MAX_REPLY_BYTES
    assert time.monotonic() - started < 1


def test_a_body_that_never_ends_stops_at_the_deadline(receiver: Receiver) -> None:
    receiver.answer(status=200, headers={"Content-Length": "1000"}, body=b"partial")
    started = time.monotonic()
    reply = send(receiver.url, timeout=0.5)
    elapsed = time.monotonic() - started
    assert (reply.status, reply.body) == (200, b"partial")
    assert 0.4 < elapsed < 1.0


def test_no_answer_within_the_timeout_is_transient(receiver: Receiver) -> None:
    receiver.answer(status=200, delay=3)
    started = time.monotonic()
    with pytest.raises(TransientFailure, match=re.escape("no answer within 0.5 s")):
        send(receiver.url, timeout=0.5)
    assert time.monotonic() - started < 1.0


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    with pytest.raises(TransientFailure) as e:
        send(f"http://127.0.0.1:{port}/")
    assert str(e.value) == f"http://127.0.0.1:{port}/: cannot connect: Connection refused"


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    with Receiver() as elsewhere:
        receiver.answer(status=302, headers={"Location": elsewhere.url})
        assert send(receiver.url).status == 302
        assert elsewhere.requests == []


def test_a_read_answer_leaves_the_connection_for_the_next(receiver: Receiver) -> None:
    session = http_session(allow_private=True)
    receiver.answer(status=500, body=b"oops")
    for _ in range(2):
        post(session, receiver.url, body=b"{}", headers={}, timeout=2, allow_private=True)
    first, second = receiver.requests
    assert first.client == second.client


def reply(status: int, body: bytes = b"", **headers: str) -> Reply:
    return Reply(status, requests.structures.CaseInsensitiveDict(headers), body)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (301, TransientFailure),
        (307, TransientFailure),
        (400, PermanentFailure),
        (401, PermanentFailure),
        (404, PermanentFailure),
        (408, TransientFailure),
        (410, PermanentFailure),
        (422, PermanentFailure),
        (429, TransientFailure),
        (500, TransientFailure),
        (502, TransientFailure),
        (503, TransientFailure),
        (599, TransientFailure),
    ],
)
def test_status_mapping(status: int, kind: type[DeliveryFailed]) -> None:
    failure = failure_for(reply(status), NOW)
    assert type(failure) is kind
    assert str(failure).startswith(f"HTTP {status}")


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_success(status: int) -> None:
    assert failure_for(reply(status), NOW) is None


def test_a_redirect_names_its_location() -> None:
    failure = failure_for(reply(301, Location="https://new.example.org/hook"), NOW)
    assert str(failure) == (
        "HTTP 301 Moved Permanently: redirects are not followed "
        "(Location: https://new.example.org/hook)"
    )


def test_the_body_is_quoted_short_and_clean() -> None:
    body = ("bad\r\n\x1b[31mred\u202eevil\t" + "y" * 500).encode()
    failure = failure_for(reply(400, body), NOW)
    message = str(failure)
    assert message.startswith("HTTP 400 Bad Request: bad [31mred evil yyy")
    assert message.endswith("y…")
    assert len(message) == len("HTTP 400 Bad Request: ") + 200 + 1
    assert not any(c in message for c in "\r\n\x1b\u202e\t")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_read_on_429_and_503(status: int) -> None:
    failure = failure_for(reply(status, **{"Retry-After": "7"}), NOW)
    assert failure is not None and failure.retry_after == 7
    assert failure_for(reply(500, **{"Retry-After": "7"}), NOW).retry_after is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7),
        (" 120 ", 120),
        ("0", 0),
        ("-5", 0),
        (format_datetime(NOW + dt.timedelta(seconds=90), usegmt=True), 90),
        ("Wed, 01 May 2024 09:02:00 GMT", 120),
        (format_datetime(NOW - dt.timedelta(hours=1), usegmt=True), 0),
        (None, None),
        ("", None),
        ("soon", None),
        ("1e3", None),
        ("7 seconds", None),
        ("9" * 400, None),
        ("Wed, 99 Foo 2024 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_a_port_out_of_range_is_refused() -> None:
    with pytest.raises(TargetForbidden, match="has no valid port"):
        check_target("https://hooks.example.org:99999/", allow_private=False, resolve=refuse)
