"""Suggest To A Friend in a language of the site (issue 15), through the share routes over
ASGI against a real store with a release and its Chinese and Arabic translations: the
form, its errors, the confirmation and the email in the language of the release shared;
a language tag from a URL or the API is only ever a configured one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from lxml import html

from feedsvc.publishing.pages import Pages
from feedsvc.sharing.desk import ShareDesk
from feedsvc.sharing.keys import Signer
from feedsvc.web.clients import Clients
from feedsvc.web.share import ShareRoutes
from tests import aio
from tests.conftest import BASE_URL, Newsroom, make_newsroom

IP = "192.0.2.1"
FORM = b"application/x-www-form-urlencoded"
LANGUAGES = {
    "zh": {"title": "外交部新闻", "sections": {"Press Releases": "新闻稿"}},
    "ar": {"title": "المكتب الصحفي"},
}


def translation(tag: str, title: str) -> str:
    return (
        f'+++\ntitle = "{title}"\ndate = 2026-11-26T09:00:00Z\nsection = "Press Releases"\n'
        f'language = "{tag}"\n+++\nText.\n'
    )


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path, languages=LANGUAGES)
    room.add("news.txt", "Big news", "November 26, 2026")
    room.write("news.zh.md", translation("zh", "重大新闻"))
    room.write("news.ar.md", translation("ar", "خبر كبير"))
    room.ingest()
    yield room
    room.store.close()


@pytest.fixture
def routes(room: Newsroom) -> Iterator[ShareRoutes]:
    s = room.settings
    desk = ShareDesk(
        room.store,
        Signer(b"k" * 48),
        room.clock,
        rules=s.share,
        site=s.site,
        languages=s.languages,
    )
    yield ShareRoutes(
        desk,
        Pages(s.site, s.share),
        Clients(s.server.trusted_proxies),
        rules=s.share,
        site=s.site,
        languages=s.languages,
    )
    desk.close()


def call(
    routes: ShareRoutes, method: str, rel: str, body: bytes = b"", ctype: bytes = FORM, query=""
) -> tuple[int, dict[bytes, bytes], bytes] | None:
    """One request through the share routes as uvicorn makes it; None: not a share route."""
    scope = {
        "type": "http",
        "method": method,
        "path": "/" + rel,
        "query_string": query.encode(),
        "headers": [(b"content-type", ctype), (b"content-length", b"%d" % len(body))],
        "client": (IP, 50000),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    if aio.run(routes(scope, receive, send, method, rel)) is None:
        return None
    start, answer = sent
    return start["status"], dict(start["headers"]), answer["body"]


def token_from(page: bytes) -> str:
    return html.fromstring(page).find(".//input[@name='token']").get("value")


def share_in(routes: ShareRoutes, room: Newsroom, tag: str, **fields: Any) -> tuple:
    """The form of the release in `tag` loaded, filled in and sent."""
    got = call(routes, "GET", f"{tag}/releases/news/share")
    assert got is not None and got[0] == 200
    room.clock.advance(seconds=5)  # more than share.min_fill_seconds
    data = {"to": "friend@example.org", "token": token_from(got[2]), **fields}
    answer = call(routes, "POST", f"{tag}/releases/news/share", urlencode(data).encode())
    assert answer is not None
    return answer


def email_to(room: Newsroom, address: str) -> dict[str, Any]:
    [queued] = [
        d for d in room.store.outbox.list(channel="email", limit=100) if d.target == address
    ]
    return queued.payload


def test_the_form_in_chinese(routes: ShareRoutes) -> None:
    status, _, body = call(routes, "GET", "zh/releases/news/share")
    assert status == 200
    doc = html.fromstring(body)
    assert doc.get("lang") == "zh"
    assert doc.find(".//h1").text == "推荐给朋友"
    assert doc.find(".//title").text == "将“重大新闻”推荐给朋友 · 外交部新闻"
    assert doc.find(".//legend").text == "通过电子邮件发送"
    assert doc.find(".//main//form").get("action") == "/zh/releases/news/share"


def test_errors_in_the_language_of_the_form(routes: ShareRoutes, room: Newsroom) -> None:
    status, _, body = share_in(routes, room, "zh", to="not-an-address", from_name="x" * 80)
    assert status == 422
    doc = html.fromstring(body)
    assert doc.find(".//div[@class='error-summary']/p").text == "请检查表单："
    assert "不是有效的电子邮件地址" in doc.find(".//span[@id='share-to-0-error']").text
    assert doc.find(".//span[@id='share-from-name-error']").text == "最多 64 个字符。"


def test_a_chinese_share_sends_a_chinese_email(routes: ShareRoutes, room: Newsroom) -> None:
    status, headers, _ = share_in(routes, room, "zh", from_name="小李", message="值得一读。")
    assert status == 303
    sent_page = headers[b"location"].decode()
    assert sent_page.startswith("/shares/")  # at the top: share pages exist once
    mail = email_to(room, "friend@example.org")
    assert mail["subject"] == "小李向您推荐：重大新闻"
    assert mail["from_name"] == "小李（经由外交部新闻）"
    assert mail["text"].startswith("小李认为您会对外交部新闻的这篇新闻稿感兴趣：\n\n重大新闻\n")
    assert f"{BASE_URL}zh/" in mail["text"]  # the site in that language
    doc = html.fromstring(mail["html"])
    assert doc.get("lang") == "zh" and doc.get("dir") is None
    assert doc.findall(".//a")[-1].text == "不再接收此类邮件"
    # "On its way", in the language of the release shared.
    status, _, body = call(routes, "GET", sent_page.lstrip("/"))
    assert status == 200
    assert html.fromstring(body).find(".//h1").text == "您的推荐正在发送"
    # The click-through leads to the release in that language.
    share_id = sent_page.strip("/").rpartition("/")[2]
    status, headers, _ = call(routes, "GET", f"s/{share_id}")
    assert (status, headers[b"location"]) == (303, b"/zh/releases/news/")


def test_an_arabic_email_is_right_to_left(routes: ShareRoutes, room: Newsroom) -> None:
    status, _, _ = share_in(routes, room, "ar")
    assert status == 303
    mail = email_to(room, "friend@example.org")
    assert mail["subject"] == "شخص ما يقترح عليك: خبر كبير"
    doc = html.fromstring(mail["html"])
    assert (doc.get("lang"), doc.get("dir")) == ("ar", "rtl")
    assert "border-right: 3px" not in mail["html"]  # no message: no quote
    assert "المكتب الصحفي" in mail["text"]


def test_the_api_shares_a_translation_by_id_and_language(
    routes: ShareRoutes, room: Newsroom
) -> None:
    status, _, body = call(routes, "GET", "api/shares/token", query="release=news&language=zh")
    assert status == 200
    token = json.loads(body)["token"]
    room.clock.advance(seconds=5)
    data = {"release": "news", "language": "zh", "to": ["api@example.org"], "token": token}
    status, _, body = call(
        routes, "POST", "api/shares", json.dumps(data).encode(), b"application/json"
    )
    assert status == 202, body
    assert email_to(room, "api@example.org")["subject"] == "有人向您推荐：重大新闻"
    # The token is for the Chinese release: it does not share the English one.
    room.clock.advance(seconds=5)
    status, _, body = call(routes, "GET", "api/shares/token", query="release=news")
    token = json.loads(body)["token"]
    room.clock.advance(seconds=5)
    data = {"release": "news", "language": "zh", "to": ["other@example.org"], "token": token}
    status, _, _ = call(
        routes, "POST", "api/shares", json.dumps(data).encode(), b"application/json"
    )
    assert status == 400


@pytest.mark.parametrize("tag", ["fr", "zh<script>", "ZH\r\nX-Evil: 1", "en-US", ""])
def test_a_language_the_site_does_not_have_is_refused_and_not_echoed(
    routes: ShareRoutes, room: Newsroom, tag: str
) -> None:
    status, _, body = call(
        routes, "GET", "api/shares/token", query=urlencode({"release": "news", "language": tag})
    )
    if tag == "":
        assert status == 200  # blank: the site's own language
        return
    assert status == 400
    assert json.loads(body) == {
        "error": "check the fields",
        "fields": {"language": "not a language of this site"},
    }
    data = {"release": "news", "language": tag, "to": ["x@example.org"], "token": "t"}
    status, headers, body = call(
        routes, "POST", "api/shares", json.dumps(data).encode(), b"application/json"
    )
    assert status in (400, 422)
    assert set(json.loads(body)["fields"]) == {"language"}  # malformed or not the site's
    assert b"<script" not in body and b"Evil" not in body
    assert not any(b"Evil" in name or b"Evil" in value for name, value in headers.items())


def test_only_the_share_form_of_a_language_is_a_share_route(routes: ShareRoutes) -> None:
    assert call(routes, "GET", "zh/feed.xml") is None
    assert call(routes, "GET", "zh/releases/news/") is None
    # Not a configured language: no share form under it.
    assert call(routes, "GET", "fr/releases/news/share") is None
    status, _, body = call(routes, "GET", "zh/releases/nothing/share")
    assert status == 404 and "没有这篇新闻稿。" in body.decode()


def test_a_translation_has_one_way_in_its_language_not_its_key_as_an_id(
    routes: ShareRoutes, room: Newsroom
) -> None:
    """'news@zh' is the Chinese release's key, not an id: asked for as a release of the
    site's own language it names nothing, by the token API, the API and the form alike."""
    status, _, _ = call(routes, "GET", "api/shares/token", query="release=news%40zh")
    assert status == 404
    status, _, body = call(routes, "GET", "api/shares/token", query="release=news&language=zh")
    token = json.loads(body)["token"]
    room.clock.advance(seconds=5)
    data = {"release": "news@zh", "to": ["alias@example.org"], "token": token}
    status, _, _ = call(
        routes, "POST", "api/shares", json.dumps(data).encode(), b"application/json"
    )
    assert status in (400, 404)
    assert call(routes, "GET", "releases/news@zh/share")[0] == 404  # type: ignore[index]


def test_the_unsubscribe_page_speaks_the_language_of_the_email(
    routes: ShareRoutes, room: Newsroom
) -> None:
    status, _, _ = share_in(routes, room, "zh")
    assert status == 303
    mail = email_to(room, "friend@example.org")
    [link] = [v.strip("<>") for k, v in mail["headers"].items() if k == "List-Unsubscribe"]
    assert link.startswith(BASE_URL + "unsubscribe?t=") and link.endswith("&lang=zh")
    rel = link.removeprefix(BASE_URL)
    path, _, query = rel.partition("?")
    status, _, body = call(routes, "GET", path, query=query)  # type: ignore[misc]
    doc = html.fromstring(body)
    assert (status, doc.get("lang")) == (200, "zh")
    action = doc.find(".//main//form").get("action")
    assert action.endswith("&lang=zh")  # the answer to the button is in Chinese too
    status, _, body = call(routes, "POST", path, b"List-Unsubscribe=One-Click", query=query)  # type: ignore[misc]
    assert (status, html.fromstring(body).get("lang")) == (200, "zh")
    # A language the site does not have: the site's own, and never echoed.
    status, _, body = call(routes, "GET", path, query=query.replace("lang=zh", "lang=xx%3Cb"))  # type: ignore[misc]
    assert html.fromstring(body).get("lang") == "en" and b"xx<b" not in body
