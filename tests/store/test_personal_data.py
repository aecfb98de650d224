"""Personal data that outlives its purpose (issue 11): addresses in kept errors, dead
deliveries that were never purged, a share.created event's recipients, the sharer's own
address, and statement parameters in SQLAlchemy's log. A real SMTP server (aiosmtpd) and
real HTTP receivers on 127.0.0.1, the service in process with a moved clock."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from feedsvc.clock import FixedClock
from feedsvc.config import database_url, settings_from_dict
from feedsvc.ingest import ingest
from feedsvc.service import Service
from feedsvc.sharing.keys import address_hash
from feedsvc.sharing.requests import ShareRequest
from feedsvc.store import Store
from feedsvc.store.schema import deliveries
from tests.channels.conftest import new_secret
from tests.channels.http_receiver import Answer, Receiver
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import BASE_URL, SEED, SEED_ID, db_rows, new_database_url

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
VICTIM = "victim@example.org"  # the friend the relay refuses
FRIEND = "friend@example.org"  # the friend whose email goes out
SHARER = "sharer@example.net"
SECRET_ENV = "FEEDSVC_TEST_PRIVACY_HOOK_SECRET"
RETENTION_DAYS, KEEP_DAYS = 30, 60


@dataclass
class Refusing(Recorder):
    """A relay that answers RCPT TO:<VICTIM> with `victim_replies`, first to last."""

    victim_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address == VICTIM and self.victim_replies:
            return self.victim_replies.pop(0)
        return await super().handle_RCPT(server, session, envelope, address, options)


@dataclass
class Office:
    service: Service
    url: str  # the database
    relay: Refusing
    share_id: str

    def dispatch(self) -> None:
        self.service.dispatcher.run()

    def everything(self) -> str:
        """Every row of the outbox, its attempts and the shares, as one text to search."""
        rows = [
            *db_rows(self.url, "SELECT * FROM deliveries"),
            *db_rows(self.url, "SELECT * FROM delivery_attempts"),
            *db_rows(self.url, "SELECT * FROM shares"),
        ]
        return "\n".join(repr(row) for row in rows)

    def errors(self) -> list[str]:
        kept = db_rows(self.url, "SELECT last_error FROM deliveries")
        kept += db_rows(self.url, "SELECT error FROM delivery_attempts")
        return [error for (error,) in kept if error]

    def payloads(self, key_like: str) -> list[dict]:
        rows = db_rows(self.url, "SELECT payload FROM deliveries WHERE key LIKE :k", k=key_like)
        return [json.loads(payload) for (payload,) in rows]


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Office]:
    """A share from SHARER to FRIEND and VICTIM, announced (with its recipients) to two
    endpoints: one takes it, one refuses it naming VICTIM. The relay first puts VICTIM off
    (451), then refuses them (550), each time naming them."""
    monkeypatch.setenv(SECRET_ENV, new_secret())
    relay = Refusing(
        victim_replies=[f"451 4.2.1 <{VICTIM}> busy, try later", f"550 5.1.1 <{VICTIM}> refused"]
    )
    refusing = Answer(status=400, body=f"no such subscriber: {VICTIM}".encode())
    with (
        smtp_server(relay) as smtp,
        Receiver() as taker,
        Receiver(default=refusing) as refuser,
    ):
        hook = {"secret_env": SECRET_ENV, "events": ["share.created"], "include_recipients": True}
        url = new_database_url(tmp_path)
        settings = settings_from_dict(
            {
                "site": {"base_url": BASE_URL, "id_authority": "press.example.org"},
                "items": {"dir": "items"},
                "database": {"url": url},
                "mail": {
                    "transport": "smtp",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp.port,
                    "smtp_security": "none",
                },
                "webhooks": [
                    {"url": taker.url + "in", **hook},
                    {"url": refuser.url + "in", **hook},
                ],
                "outbox": {"allow_private_targets": True, "keep_days": KEEP_DAYS},
                "share": {"retention_days": RETENTION_DAYS},
            },
            root=tmp_path,
        )
        (tmp_path / "items").mkdir()
        shutil.copy(SEED, tmp_path / "items" / SEED.name)
        service = Service(settings, FixedClock(NOW))
        try:
            ingest(settings, service.store, service.clock)
            receipt = service.desk.share_now(
                ShareRequest(
                    release=SEED_ID,
                    to=(VICTIM, FRIEND),
                    from_name="Ana",
                    from_email=SHARER,
                    message="Worth a read.",
                    token="",
                    trapped=False,
                )
            )
            yield Office(service, database_url(settings), relay, receipt.id)
        finally:
            service.close()


def test_an_smtp_refusal_naming_the_address_is_kept_without_it(office: Office) -> None:
    office.dispatch()  # VICTIM: 451, again in 5 s; FRIEND: delivered; the hooks: one each
    office.service.clock.advance(seconds=10)  # past the retry's 5 s and its jitter
    office.dispatch()  # VICTIM: 550, dead
    statuses = db_rows(office.url, "SELECT target, status FROM deliveries WHERE channel = 'email'")
    assert sorted(statuses) == [("", "delivered"), (VICTIM, "dead")]  # kept for a retry
    errors = office.errors()
    assert len(errors) >= 4  # the relay's two replies, in the outbox and its attempts
    assert not [e for e in errors if VICTIM in e]
    # What the relay said is still there to read, with the address masked.
    assert any("550" in e and "v…@example.org" in e for e in errors)
    # So is the refusing endpoint's answer.
    assert any("HTTP 400" in e and "v…@example.org" in e for e in errors)


def test_the_sharers_address_is_not_kept_with_the_share_nor_in_a_dead_email(
    office: Office,
) -> None:
    [(sender_email, sender_hash)] = db_rows(
        office.url,
        "SELECT sender_email, sender_hash FROM shares WHERE id = :id",
        id=office.share_id,
    )
    assert sender_email is None and sender_hash  # the keyed hash keeps the per-sender limit
    # Until the emails are sent, their Reply-To is where the address lives.
    assert all(p["reply_to"] == SHARER for p in office.payloads("share %"))
    office.dispatch()
    office.service.clock.advance(seconds=10)
    office.dispatch()
    emails = dict(
        db_rows(office.url, "SELECT status, payload FROM deliveries WHERE channel = 'email'")
    )
    assert emails["delivered"] == "{}"
    dead = json.loads(emails["dead"])
    assert dead["to"] == VICTIM and "reply_to" not in dead  # the recipient waits for a retry
    assert SHARER not in office.everything()


def test_a_delivered_share_event_keeps_no_recipient(office: Office) -> None:
    office.dispatch()
    events = {
        status: payload
        for status, payload in db_rows(
            office.url, "SELECT status, payload FROM deliveries WHERE key LIKE 'share.created %'"
        )
    }
    assert set(events) == {"delivered", "dead"}
    delivered, dead = json.loads(events["delivered"]), json.loads(events["dead"])
    assert delivered["data"] == {"id": office.share_id, "release": SEED_ID, "recipients": 2}
    assert sorted(dead["data"]["to"]) == [FRIEND, VICTIM]  # a retry by hand sends it whole


def test_an_unsubscribed_recipients_waiting_email_keeps_no_address(office: Office) -> None:
    service = office.service
    service.desk.shares.suppress(address_hash(service.signer, VICTIM), service.clock.now())
    rows = db_rows(
        office.url, "SELECT status, target, payload FROM deliveries WHERE channel = 'email'"
    )
    [cancelled, waiting] = sorted(rows)
    assert cancelled == ("cancelled", "", "{}")
    assert waiting[:2] == ("pending", FRIEND)
    assert VICTIM not in repr(rows)


def test_the_purges_leave_no_address_and_then_no_dead_delivery(office: Office) -> None:
    office.dispatch()
    office.service.clock.advance(seconds=10)
    office.dispatch()
    # What a feedsvc before issue 11 left: the sharer's address with the share, and an
    # error kept whole.
    db_rows(
        office.url,
        "UPDATE shares SET sender_email = :a WHERE id = :id",
        a=SHARER,
        id=office.share_id,
    )
    db_rows(
        office.url,
        "UPDATE delivery_attempts SET error = :e WHERE outcome = 'dead'",
        e=f"SMTP 127.0.0.1: {VICTIM} refused: 550 5.1.1 <{VICTIM}> refused",
    )
    assert VICTIM in office.everything()
    # Within share.retention_days nothing is erased but the old sharer's address.
    office.service.clock.advance(days=RETENTION_DAYS - 1)
    office.service.purge()
    assert SHARER not in office.everything()
    assert VICTIM in office.everything()  # the dead email waits for a retry by hand
    # After it, no address is left anywhere, though the rows are.
    office.service.clock.advance(days=2)
    office.service.purge()
    kept = office.everything()
    assert VICTIM not in kept and FRIEND not in kept and SHARER not in kept
    assert all("to" not in p["data"] for p in office.payloads("share.created %"))
    assert db_rows(office.url, "SELECT count(*) FROM deliveries WHERE status = 'dead'") == [(2,)]
    # After outbox.keep_days the dead deliveries go, with their attempts.
    office.service.clock.advance(days=KEEP_DAYS - RETENTION_DAYS)
    office.service.purge()
    assert db_rows(office.url, "SELECT count(*) FROM deliveries") == [(0,)]
    assert db_rows(office.url, "SELECT count(*) FROM delivery_attempts") == [(0,)]
    [(recipients,)] = db_rows(office.url, "SELECT recipients FROM shares")
    assert recipients == 2  # the counts stay


def test_statement_parameters_never_reach_a_log_or_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # echo, as a person debugging
    store = Store.open(new_database_url(tmp_path))
    try:
        row = {
            "channel": "email",
            "target": VICTIM,
            "payload": json.dumps({"to": VICTIM}),
            "key": "share 1",
            "status": "pending",
            "attempts": 0,
            "created_at": NOW,
            "next_attempt_at": NOW,
            "updated_at": NOW,
        }
        with store.engine.begin() as conn:
            conn.execute(insert(deliveries), row)
        with pytest.raises(IntegrityError) as caught, store.engine.begin() as conn:
            conn.execute(insert(deliveries), row)  # the same key again
    finally:
        store.close()
    assert "INSERT INTO deliveries" in caplog.text  # the log was on
    assert VICTIM not in caplog.text
    assert VICTIM not in str(caught.value)
