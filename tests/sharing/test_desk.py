"""The share desk against a real store: tokens, limits, suppression, privacy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from feedsvc.config import Settings, settings_from_dict
from feedsvc.sharing.desk import Reason, Receipt, ShareDesk, ShareRefused
from feedsvc.sharing.keys import Signer, address_hash
from feedsvc.sharing.requests import ShareRequest
from tests.conftest import BASE_URL, Newsroom, make_newsroom

KEY = b"k" * 48
FRIEND = "friend@example.org"


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    room.add("news.txt", "Big news", "November 26, 2026")
    room.write(
        "later.md",
        '+++\ntitle = "Later"\ndate = 2026-12-30T09:00:00Z\nsection = "S"\n'
        "publish_at = 2026-12-30T09:00:00Z\n+++\nSecret.\n",
    )
    room.ingest()
    yield room
    room.store.close()


def desk_for(settings: Settings, room: Newsroom) -> ShareDesk:
    return ShareDesk(
        room.store,
        Signer(KEY),
        room.clock,
        rules=settings.share,
        site=settings.site,
        webhooks=settings.webhooks,
    )


@pytest.fixture
def desk(room: Newsroom) -> Iterator[ShareDesk]:
    desk = desk_for(room.settings, room)
    yield desk
    desk.close()


def request(
    desk: ShareDesk, room: Newsroom, *, wait: float = 5, ip: str = "192.0.2.1", **fields: object
) -> ShareRequest:
    """A request with a token fetched from `ip` (a token is good from its own network)."""
    token = desk.token("news", ip)
    assert token is not None
    room.clock.advance(seconds=wait)
    values = {
        "release": "news",
        "to": (FRIEND,),
        "from_name": "Ana",
        "from_email": "ana@example.net",
        "message": "Worth a read.",
        "token": token,
        "trapped": False,
    }
    values.update(fields)
    return ShareRequest(**values)  # type: ignore[arg-type]


def submit(desk: ShareDesk, req: ShareRequest, ip: str = "192.0.2.1") -> Receipt:
    return desk.submit(req, ip).result(timeout=10)


def refusal(desk: ShareDesk, req: ShareRequest, ip: str = "192.0.2.1") -> ShareRefused:
    with pytest.raises(ShareRefused) as caught:
        submit(desk, req, ip)
    return caught.value


def emails(room: Newsroom) -> list:
    return room.store.outbox.list(channel="email", limit=1000)


def test_tokens_only_for_visible_releases(desk: ShareDesk) -> None:
    assert desk.token("news", "192.0.2.1")
    assert desk.token("later", "192.0.2.1") is None  # under embargo
    assert desk.token("nothing", "192.0.2.1") is None


def test_an_accepted_share_queues_one_email_a_recipient(desk: ShareDesk, room: Newsroom) -> None:
    receipt = submit(desk, request(desk, room, to=(FRIEND, "other@example.org")))
    assert receipt.release_id == "news"
    queued = emails(room)
    assert sorted(d.target for d in queued) == [FRIEND, "other@example.org"]
    payload = next(d.payload for d in queued if d.target == FRIEND)
    assert payload["from_name"] == "Ana via Ministry Press Office"
    assert payload["reply_to"] == "ana@example.net"
    assert payload["subject"] == "Ana suggests: Big news"
    assert f"{BASE_URL}s/{receipt.id}" in payload["text"]
    assert "Worth a read." in payload["text"] and "Worth a read." in payload["html"]
    unsubscribe = payload["headers"]["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE_URL}unsubscribe?t=") and unsubscribe.endswith(">")
    assert payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert desk.sent(receipt.id)[1] == 2


def test_a_token_is_good_once_not_too_soon_not_too_late_and_for_its_release(
    desk: ShareDesk, room: Newsroom
) -> None:
    too_soon = refusal(desk, request(desk, room, wait=1))
    req = request(desk, room)
    submit(desk, req)
    replayed = refusal(desk, dataclasses.replace(req, to=("third@example.org",)))
    too_late = refusal(desk, request(desk, room, wait=3601))
    forged = refusal(desk, request(desk, room, token="bm90IGEgdG9rZW4.AAAA"))
    elsewhere = refusal(desk, request(desk, room, release="later"))
    # All alike: a bot learns nothing of which check it failed.
    assert {(e.reason, str(e)) for e in (too_soon, replayed, too_late, forged, elsewhere)} == {
        (Reason.BAD_TOKEN, "the form expired or was already sent: load it again")
    }
    assert len(emails(room)) == 1


def test_the_honeypot_looks_like_success_and_sends_nothing(desk: ShareDesk, room: Newsroom) -> None:
    req = request(desk, room, trapped=True)
    receipt = submit(desk, req)
    assert receipt.id and emails(room) == []
    assert desk.counts["trapped"] == 1
    # Its confirmation page works like any other, and its token is spent.
    assert desk.sent(receipt.id) is not None
    assert refusal(desk, dataclasses.replace(req, trapped=False)).reason is Reason.BAD_TOKEN
    assert desk.shares.stats() == []  # not counted as a share


def test_a_withdrawn_release_cannot_be_shared(desk: ShareDesk, room: Newsroom) -> None:
    req = request(desk, room)
    (room.items / "news.txt").unlink()
    room.ingest()
    assert refusal(desk, req).reason is Reason.UNKNOWN_RELEASE


def test_per_ip_limit_then_429_with_retry_after(desk: ShareDesk, room: Newsroom) -> None:
    for n in range(10):
        submit(desk, request(desk, room, wait=5, to=(f"f{n}@example.org",), from_email=None))
    limited = refusal(desk, request(desk, room, to=("f10@example.org",), from_email=None))
    assert limited.reason is Reason.LIMITED and 3000 < limited.retry_after <= 3601
    # Another client is not held back by this one.
    other = "198.51.100.7"
    submit(desk, request(desk, room, to=("f11@example.org",), from_email=None, ip=other), ip=other)
    # An hour after the first, the first client may share again.
    room.clock.advance(hours=1)
    submit(desk, request(desk, room, to=("f12@example.org",), from_email=None))


def test_per_recipient_and_per_sender_limits(desk: ShareDesk, room: Newsroom) -> None:
    for n in range(3):
        submit(desk, request(desk, room, from_email=f"s{n}@example.net"), ip=f"192.0.2.{n}")
    assert (
        refusal(desk, request(desk, room, from_email=None), ip="192.0.2.9").reason is Reason.LIMITED
    )
    for n in range(10):
        ip = f"198.51.100.{n}"
        submit(desk, request(desk, room, to=(f"x{n}@example.org",), ip=ip), ip=ip)
    # ana@example.net has now sent 10 today (per_sender_per_day).
    req = request(desk, room, to=("y@example.org",), from_email="ana@example.net", ip="203.0.113.1")
    assert refusal(desk, req, ip="203.0.113.1").reason is Reason.LIMITED


def test_the_global_cap(room: Newsroom) -> None:
    settings = dataclasses.replace(
        room.settings, share=dataclasses.replace(room.settings.share, global_per_hour=2)
    )
    desk = desk_for(settings, room)
    try:
        for n in range(2):
            submit(desk, request(desk, room, to=(f"g{n}@example.org",)), ip=f"192.0.2.{n}")
        req = request(desk, room, to=("g9@example.org",), ip="203.0.113.9")
        assert refusal(desk, req, "203.0.113.9").reason is Reason.LIMITED
    finally:
        desk.close()


def test_unsubscribe_suppresses_at_once_and_silently(desk: ShareDesk, room: Newsroom) -> None:
    submit(desk, request(desk, room))
    [queued] = emails(room)
    link = queued.payload["headers"]["List-Unsubscribe"]
    token = link.split("t=", 1)[1].rstrip(">")
    assert not desk.unsubscribe(token[:-2] + "xx")  # tampered
    assert desk.unsubscribe(token)
    # What was still waiting for that address is cancelled...
    assert room.store.outbox.get(queued.id).status == "cancelled"
    # ...and a new share to it is accepted like any other, and sends nothing.
    ip = "198.51.100.1"
    receipt = submit(desk, request(desk, room, from_email=None, ip=ip), ip=ip)
    assert receipt.id
    assert [d.status for d in emails(room)] == ["cancelled"]
    assert desk.shares.is_suppressed(address_hash(desk.signer, FRIEND.upper()))


def test_operators_share_without_token_or_client_limits(desk: ShareDesk, room: Newsroom) -> None:
    for n in range(12):
        desk.share_now(request(desk, room, wait=0, to=(f"o{n}@example.org",), token="-"))
    assert len(emails(room)) == 12
    with pytest.raises(ShareRefused) as refused:
        desk.share_now(request(desk, room, release="later", token="-"))
    assert refused.value.reason is Reason.UNKNOWN_RELEASE


def test_share_created_webhooks_carry_addresses_only_when_asked(
    room: Newsroom, tmp_path: Path
) -> None:
    settings = settings_from_dict(
        {
            "site": {"base_url": BASE_URL, "id_authority": "press.example.org"},
            "webhooks": [
                {"url": "https://a.example.net/", "secret_env": "A", "events": ["share.created"]},
                {
                    "url": "https://b.example.net/",
                    "secret_env": "B",
                    "events": ["share.created"],
                    "include_recipients": True,
                },
                {"url": "https://c.example.net/", "secret_env": "C"},
            ],
        },
        root=tmp_path,
    )
    desk = desk_for(settings, room)
    try:
        receipt = submit(desk, request(desk, room))
    finally:
        desk.close()
    hooks = {d.target: d.payload for d in room.store.outbox.list(channel="webhook")}
    assert set(hooks) == {"https://a.example.net/", "https://b.example.net/"}
    assert hooks["https://a.example.net/"]["data"] == {
        "id": receipt.id,
        "release": "news",
        "recipients": 1,
    }
    assert hooks["https://b.example.net/"]["data"]["to"] == [FRIEND]
    assert FRIEND not in json.dumps(hooks["https://a.example.net/"])


def test_personal_data_is_erased_after_retention(desk: ShareDesk, room: Newsroom) -> None:
    receipt = submit(desk, request(desk, room))
    [queued] = emails(room)
    claim = room.store.outbox.claim_due(room.clock.now(), 10, dt.timedelta(minutes=5))
    room.store.outbox.record_delivered(claim.deliveries[0], claim, room.clock.now())
    # Delivered: the recipient's address and the text are gone at once.
    delivered = room.store.outbox.get(queued.id)
    assert (delivered.target, delivered.payload) == ("", {})
    room.clock.advance(days=31)
    before = room.clock.now() - dt.timedelta(days=30)
    assert desk.shares.erase(before, room.clock.now()) == (1, 0)
    with room.store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT sender_name, sender_email, sender_hash, message, ip_hash, erased_at"
                " FROM shares WHERE id = :id"
            ),
            {"id": receipt.id},
        ).one()
        tokens = conn.execute(text("SELECT count(*) FROM used_tokens")).scalar()
    assert row[:5] == (None,) * 5 and row[5] is not None
    assert tokens == 0
    assert desk.shares.stats() == [("news", 1, 1, 0)]  # counts survive


def test_many_at_once_are_all_answered(desk: ShareDesk, room: Newsroom) -> None:
    requests = [
        request(desk, room, wait=0, to=(f"m{n}@example.org",), from_email=None, ip=f"10.0.{n}.1")
        for n in range(40)
    ]
    room.clock.advance(seconds=5)
    futures = [desk.submit(r, f"10.0.{n}.1") for n, r in enumerate(requests)]
    assert all(f.result(timeout=10).id for f in futures)
    assert len(emails(room)) == 40


def test_a_share_whose_email_cannot_be_built_is_refused_at_intake(room: Newsroom) -> None:
    """Never 202 and then dead (issue 11): here the site's title holds a line separator,
    which no From display name may carry."""
    site = dataclasses.replace(room.settings.site, title="Press\u2028Office")
    desk = desk_for(dataclasses.replace(room.settings, site=site), room)
    try:
        refused = refusal(desk, request(desk, room))
        assert (refused.reason, refused.field) == (Reason.UNSENDABLE, "release")
        assert emails(room) == []
        assert desk.shares.totals() == (0, 0)
    finally:
        desk.close()


def test_a_title_with_format_characters_is_shared(room: Newsroom) -> None:
    """A soft hyphen, a zero-width joiner, a bidi mark: encoded in the subject, not refused;
    a line separator in a title becomes a space."""
    title = "Co\u00adoperation 👩\u200d💻 \u200eتعاون\u2028again"
    room.write(
        "titled.md",
        f'+++\ntitle = "{title}"\ndate = 2026-11-20T09:00:00Z\nsection = "S"\n+++\nText.\n',
    )
    room.ingest()
    desk = desk_for(room.settings, room)
    try:
        token = desk.token("titled", "192.0.2.1")
        assert token is not None
        room.clock.advance(seconds=5)
        req = ShareRequest("titled", (FRIEND,), None, None, None, token, False)
        submit(desk, req)
        [queued] = emails(room)
        assert queued.payload["subject"] == "Someone suggests: " + title.replace("\u2028", " ")
    finally:
        desk.close()


def test_an_operators_email_says_the_press_office_sent_it(desk: ShareDesk, room: Newsroom) -> None:
    desk.share_now(request(desk, room, wait=0, from_name=None, message=None, token="-"))
    [email] = emails(room)
    for part in ("text", "html"):
        body = " ".join(email.payload[part].split())
        assert "Suggest To A Friend" not in body, part
        assert "Someone" not in body, part
        assert "Ministry Press Office thought you would like this release:" in body, part
        assert "Why you got this: Ministry Press Office" in body, part

    # A reader's, through the form, still says someone used it.
    submit(desk, request(desk, room, from_name=None, to=("other@example.org",)))
    reader = next(d for d in emails(room) if d.target == "other@example.org")
    for part in ("text", "html"):
        assert "Someone thought" in reader.payload[part], part
        assert "someone used" in " ".join(reader.payload[part].split()), part
