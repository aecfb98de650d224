"""Refusals said in HTTP (issue 13 item 3): sharing/ names a reason, web/ maps it to a status.

The mapping is total (every reason and every kind of invalid request has a status), and each
reason, raised for real by the desk against a real store, is answered by the JSON API and
the form with the status, body and Retry-After they always had.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from feedsvc.publishing.pages import Pages
from feedsvc.sharing.desk import Reason, ShareDesk, ShareRefused
from feedsvc.sharing.requests import Invalid
from feedsvc.web.clients import Clients
from feedsvc.web.refusals import INVALID_STATUS, REFUSED_STATUS, retry_after
from feedsvc.web.share import ShareRoutes
from tests.conftest import Newsroom, make_newsroom
from tests.sharing.test_desk import desk_for
from tests.web.test_share_languages import call as share_call

IP = "192.0.2.1"
EXPIRED = "the form expired or was already sent: load it again"
UNSENDABLE = "this release cannot be sent by email"

# What each reason has always been answered with (the API's contract; see openapi.json).
STATUS = {
    Reason.BAD_TOKEN: 400,
    Reason.UNKNOWN_RELEASE: 404,
    Reason.LIMITED: 429,
    Reason.UNSENDABLE: 422,
}


def test_every_reason_and_every_invalid_kind_has_a_status() -> None:
    assert set(REFUSED_STATUS) == set(Reason)
    assert set(INVALID_STATUS) == set(Invalid)
    assert {reason: REFUSED_STATUS[reason] for reason in Reason} == STATUS
    assert INVALID_STATUS == {Invalid.MALFORMED: 400, Invalid.UNACCEPTABLE: 422}


@pytest.mark.parametrize("reason", list(Reason))
def test_only_a_limit_says_when_to_try_again(reason: Reason) -> None:
    headers = retry_after(ShareRefused(reason, "no", retry_after=42))
    assert headers == ([(b"retry-after", b"42")] if reason is Reason.LIMITED else [])


# -- each reason, raised by the desk and answered over ASGI ------------------------------------


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    room.add("news.txt", "Big news", "November 26, 2026")
    room.ingest()
    yield room
    room.store.close()


def call(routes: ShareRoutes, rel: str, ctype: bytes, body: bytes) -> tuple[int, dict, bytes]:
    """One POST through the share routes, as uvicorn would make it: (status, headers, body)."""
    answer = share_call(routes, "POST", rel, body, ctype)
    assert answer is not None, f"{rel} is no share route"
    return answer


def bad_token(room: Newsroom, desk: ShareDesk) -> str:
    return "bm90IGEgdG9rZW4.AAAA"  # forged


def unknown_release(room: Newsroom, desk: ShareDesk) -> str:
    token = fresh_token(room, desk)
    (room.items / "news.txt").unlink()  # withdrawn after the form was loaded
    room.ingest()
    return token


def limited(room: Newsroom, desk: ShareDesk) -> str:
    first = share(room, desk, fresh_token(room, desk), "first@example.org")
    assert first == 202
    return fresh_token(room, desk)


def unsendable(room: Newsroom, desk: ShareDesk) -> str:
    return fresh_token(room, desk)  # the site's title breaks every From (see SETTINGS)


SCENARIOS: dict[Reason, Callable[[Newsroom, ShareDesk], str]] = {
    Reason.BAD_TOKEN: bad_token,
    Reason.UNKNOWN_RELEASE: unknown_release,
    Reason.LIMITED: limited,
    Reason.UNSENDABLE: unsendable,
}
SETTINGS: dict[Reason, dict[str, dict[str, Any]]] = {
    Reason.LIMITED: {"share": {"global_per_hour": 1}},
    Reason.UNSENDABLE: {"site": {"title": "Press\u2028Office"}},
}
JSON_BODY = {
    Reason.BAD_TOKEN: {"error": EXPIRED},
    Reason.UNKNOWN_RELEASE: {"error": "no such release"},
    Reason.LIMITED: {"error": "too many suggestions for now: try again later"},
    Reason.UNSENDABLE: {"error": UNSENDABLE, "fields": {"release": UNSENDABLE}},
}
FORM_TEXT = {
    Reason.BAD_TOKEN: "please check it and press Send again",
    Reason.UNKNOWN_RELEASE: "There is no such release.",
    Reason.LIMITED: "Too many suggestions have been sent from here for now.",
    Reason.UNSENDABLE: UNSENDABLE,
}


def fresh_token(room: Newsroom, desk: ShareDesk) -> str:
    token = desk.token("news", IP)
    assert token is not None
    room.clock.advance(seconds=5)  # more than share.min_fill_seconds
    return token


def routes_for(desk: ShareDesk, room: Newsroom) -> ShareRoutes:
    settings = dataclasses.replace(room.settings, site=desk.site, share=desk.rules)
    clients = Clients(settings.server.trusted_proxies)
    return ShareRoutes(
        desk, Pages(settings.site, settings.share), clients, rules=desk.rules, site=desk.site
    )


def share(room: Newsroom, desk: ShareDesk, token: str, to: str = "friend@example.org") -> int:
    routes = routes_for(desk, room)
    data = {"release": "news", "to": [to], "token": token}
    return call(routes, "api/shares", b"application/json", json.dumps(data).encode())[0]


@pytest.fixture(params=list(Reason), ids=lambda reason: reason.name)
def refused(request: pytest.FixtureRequest, room: Newsroom) -> Iterator[tuple[Reason, ShareDesk]]:
    reason = request.param
    settings = room.settings
    for section, values in SETTINGS.get(reason, {}).items():
        changed = dataclasses.replace(getattr(settings, section), **values)
        settings = dataclasses.replace(settings, **{section: changed})
    desk = desk_for(settings, room)
    yield reason, desk
    desk.close()


def test_every_reason_has_a_scenario_here() -> None:
    assert set(SCENARIOS) == set(JSON_BODY) == set(FORM_TEXT) == set(Reason)


def test_the_api_answers_each_reason_as_before(
    refused: tuple[Reason, ShareDesk], room: Newsroom
) -> None:
    reason, desk = refused
    token = SCENARIOS[reason](room, desk)
    routes = routes_for(desk, room)
    data = json.dumps({"release": "news", "to": ["friend@example.org"], "token": token})
    status, headers, body = call(routes, "api/shares", b"application/json", data.encode())
    assert (status, json.loads(body)) == (STATUS[reason], JSON_BODY[reason])
    assert headers.get(b"retry-after") == (b"600" if reason is Reason.LIMITED else None)
    assert headers[b"content-type"] == b"application/json"


def test_the_form_answers_each_reason_as_before(
    refused: tuple[Reason, ShareDesk], room: Newsroom
) -> None:
    reason, desk = refused
    token = SCENARIOS[reason](room, desk)
    routes = routes_for(desk, room)
    form = urlencode({"to": "friend@example.org", "token": token}).encode()
    ctype = b"application/x-www-form-urlencoded"
    status, headers, body = call(routes, "releases/news/share", ctype, form)
    assert status == STATUS[reason]
    assert FORM_TEXT[reason] in body.decode()
    assert headers.get(b"retry-after") == (b"600" if reason is Reason.LIMITED else None)
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
