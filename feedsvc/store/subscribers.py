"""The SQL of email alerts' subscribers (issue 16): double opt-in, the consent record, the
manage links' changes, bounces and complaints, and a person's data exported or erased.

An address is found by its keyed hash (one subscription per address); the address itself
is kept only while the person is subscribed."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, delete, func, insert, or_, select, update

from feedsvc.store.connector import SUBSCRIBERS_LOCK, writing
from feedsvc.store.schema import subscribers

FREQUENCIES = ("immediate", "daily", "weekly")
STATUSES = ("pending", "confirmed", "suspended", "unsubscribed")
BASES = ("double-opt-in", "import-consent-column", "operator-confirmed")
_LIVE = ("pending", "confirmed")  # what a bounce can still suspend

_c = subscribers.c


@dataclass(frozen=True)
class Subscriber:
    id: str
    address_hash: str
    address: str | None
    frequency: str
    sections: tuple[str, ...] | None  # None follows everything
    language: str | None
    status: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    consent_at: dt.datetime | None
    consent_network: str | None
    consent_form: str | None
    consent_basis: str | None
    consent_note: str | None
    hard_bounces: int
    soft_bounces: int
    last_digest_at: dt.datetime | None
    updated_at: dt.datetime


def _subscriber(row: Any) -> Subscriber:
    values = dict(row._mapping)
    sections = values["sections"]
    values["sections"] = None if sections is None else tuple(json.loads(sections))
    return Subscriber(**values)


def _sections(sections: Sequence[str] | None) -> str | None:
    # Not ASCII-escaped: the fan-out finds '"<slug>"' in this text (store/alerts.py), and a
    # slug may be written in any script (issue 15).
    return None if sections is None else json.dumps(sorted(set(sections)), ensure_ascii=False)


def _frequency(frequency: str) -> str:
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    return frequency


def _new_id() -> str:
    return secrets.token_hex(16)  # 32 characters, in the signed confirmation/manage links


class Subscribers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def request(
        self,
        address_hash: str,
        address: str,
        frequency: str,
        sections: Sequence[str] | None,
        language: str | None,
        now: dt.datetime,
        network: str,
        form_version: str,
    ) -> str:
        """A subscription request (request_in, in a transaction of its own); its id."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            return request_in(
                conn,
                address_hash,
                address,
                frequency,
                sections,
                language,
                now,
                network,
                form_version,
            )[0]

    def confirm(self, subscriber_id: str, now: dt.datetime) -> bool:
        """The confirmation link followed: a pending subscription is confirmed and its
        consent recorded (when; the network and form version of its request). True when
        the subscription is confirmed, now or already (a link followed twice)."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            conn.execute(
                update(subscribers)
                .where(_c.id == subscriber_id, _c.status == "pending")
                .values(
                    status="confirmed",
                    confirmed_at=now,
                    consent_at=now,
                    consent_basis="double-opt-in",
                    updated_at=now,
                )
            )
            status = conn.execute(select(_c.status).where(_c.id == subscriber_id)).scalar()
        return status == "confirmed"

    def change(
        self,
        subscriber_id: str,
        frequency: str,
        sections: Sequence[str] | None,
        now: dt.datetime,
    ) -> bool:
        """The manage link: how often, and what to follow. False for a subscription that
        is gone or has left."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            changed = conn.execute(
                update(subscribers)
                .where(_c.id == subscriber_id, _c.status != "unsubscribed")
                .values(
                    frequency=_frequency(frequency),
                    sections=_sections(sections),
                    updated_at=now,
                    # A digest starts from the change: nothing an immediate alert sent
                    # already is listed again.
                    last_digest_at=case((_c.frequency != frequency, now), else_=_c.last_digest_at),
                )
            ).rowcount
        return changed == 1

    def unsubscribe(self, subscriber_id: str, now: dt.datetime) -> bool:
        """The person leaves (the manage link, RFC 8058 one-click): nothing more is sent,
        and their address is forgotten; the hash stays, for the counts."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            left = conn.execute(
                update(subscribers)
                .where(_c.id == subscriber_id, _c.status != "unsubscribed")
                .values(status="unsubscribed", address=None, updated_at=now)
            ).rowcount
        return left == 1

    def complaint(self, subscriber_id: str, now: dt.datetime) -> bool:
        """A complaint report (RFC 5965) unsubscribes: the person marked the mail as spam."""
        return self.unsubscribe(subscriber_id, now)

    def record_bounce(
        self, subscriber_id: str, hard: bool, max_hard: int, max_soft: int, now: dt.datetime
    ) -> str | None:
        """Count a bounce (a permanent refusal or an RFC 3464 notification); the status
        after it, suspended once alerts.max_hard_bounces hard or alerts.max_soft_bounces
        soft bounces are reached. None for a subscriber no longer stored."""
        hard_after = _c.hard_bounces + int(hard)
        soft_after = _c.soft_bounces + int(not hard)
        over = or_(hard_after >= max_hard, soft_after >= max_soft)
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            conn.execute(
                update(subscribers)
                .where(_c.id == subscriber_id)
                .values(
                    hard_bounces=hard_after,
                    soft_bounces=soft_after,
                    status=case((and_(_c.status.in_(_LIVE), over), "suspended"), else_=_c.status),
                    updated_at=now,
                )
            )
            return conn.execute(select(_c.status).where(_c.id == subscriber_id)).scalar()

    # -- a person's data -------------------------------------------------------------------

    def get_many(self, ids: Sequence[str]) -> dict[str, Subscriber]:
        """The subscribers of these ids that are stored (the alert channel, a claim at a time)."""
        found: dict[str, Subscriber] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = select(subscribers).where(_c.id.in_(sorted(ids[start : start + 500])))
                found.update((row.id, _subscriber(row)) for row in conn.execute(query))
        return found

    def get(self, subscriber_id: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscribers).where(_c.id == subscriber_id)).first()
        return None if row is None else _subscriber(row)

    def export(self, address_hash: str) -> dict[str, Any] | None:
        """Everything kept about the person with that address, JSON-ready (`feedsvc
        subscribers export`); None when nothing is."""
        with self.engine.connect() as conn:
            row = conn.execute(select(subscribers).where(_c.address_hash == address_hash)).first()
        if row is None:
            return None
        kept = asdict(_subscriber(row))
        return {
            name: value.isoformat() if isinstance(value, dt.datetime) else value
            for name, value in kept.items()
        } | {"sections": None if row.sections is None else json.loads(row.sections)}

    def erase(self, address_hash: str) -> bool:
        """The person's data erased: their row gone, consent record and all."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            gone = conn.execute(delete(subscribers).where(_c.address_hash == address_hash)).rowcount
        return gone == 1

    def forget_unconfirmed(self, before: dt.datetime) -> int:
        """Erase requests never confirmed, last asked for before `before` (now minus
        alerts.confirm_days: their links no longer work). How many were erased."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            return conn.execute(
                delete(subscribers).where(_c.status == "pending", _c.updated_at < before)
            ).rowcount

    # -- the operator's view ---------------------------------------------------------------

    def list(self, status: str | None = None, limit: int = 1000) -> builtins.list[Subscriber]:
        """Subscribers, the oldest first; of one status if given."""
        query = select(subscribers).order_by(_c.created_at, _c.id).limit(limit)
        if status is not None:
            query = query.where(_c.status == status)
        with self.engine.connect() as conn:
            return [_subscriber(row) for row in conn.execute(query)]

    def counts(self) -> dict[tuple[str, str], int]:
        """(status, frequency) -> how many: for `feedsvc stats --alerts` and /metrics."""
        query = select(_c.status, _c.frequency, func.count()).group_by(_c.status, _c.frequency)
        with self.engine.connect() as conn:
            return {(status, frequency): n for status, frequency, n in conn.execute(query)}


def request_in(
    conn: Connection,
    address_hash: str,
    address: str,
    frequency: str,
    sections: Sequence[str] | None,
    language: str | None,
    now: dt.datetime,
    network: str,
    form_version: str,
) -> tuple[str, str]:
    """A subscription request from the form, in the caller's transaction: (the id its
    confirmation link names, the subscription's status after it).

    A new address, or one still pending (its choices replaced: the latest request is the
    one confirmed), or one that left (asking anew, with a new id: old links stay dead) is
    pending. A confirmed or suspended subscription is left exactly as it is: the caller
    answers the same whatever the address (issue 16: no way to learn who subscribes).
    `network` is the client's network (sharing.keys.network_of), kept as the consent
    record with `form_version` once the address confirms. `language`: the scope of the
    language followed (None: the site's own)."""
    choices = {
        "address": address,
        "frequency": _frequency(frequency),
        "sections": _sections(sections),
        "language": language,
        "consent_network": network,
        "consent_form": form_version,
        "updated_at": now,
    }
    row = conn.execute(select(_c.id, _c.status).where(_c.address_hash == address_hash)).first()
    if row is None:
        new = _new_id()
        conn.execute(
            insert(subscribers).values(
                id=new,
                address_hash=address_hash,
                status="pending",
                created_at=now,
                hard_bounces=0,
                soft_bounces=0,
                **choices,
            )
        )
        return new, "pending"
    if row.status in ("confirmed", "suspended"):
        return str(row.id), str(row.status)
    fresh = row.id if row.status == "pending" else _new_id()
    conn.execute(
        update(subscribers)
        .where(_c.id == row.id)
        .values(
            id=fresh,
            status="pending",
            created_at=now if row.status != "pending" else _c.created_at,
            confirmed_at=None,
            consent_at=None,
            consent_basis=None,
            hard_bounces=0,
            soft_bounces=0,
            last_digest_at=None,
            **choices,
        )
    )
    return str(fresh), "pending"
