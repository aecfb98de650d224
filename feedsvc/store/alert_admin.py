"""The operator's SQL for email alerts (issue 16): subscribers added by hand or imported in
bulk with their consent record, a person's alert emails found and erased with them, and
the counts of `feedsvc stats --alerts`. The form's path is store/subscribers.py and
store/alerts.py; this module only adds what the command line needs besides."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, cast, delete, func, select, update

from feedsvc.store import dialects
from feedsvc.store.connector import SUBSCRIBERS_LOCK, writing
from feedsvc.store.release_reads import in_chunks
from feedsvc.store.schema import deliveries, delivery_attempts, subscribers, subscription_requests
from feedsvc.store.subscribers import _new_id, _sections, request_in

ALERT = "alert"  # the deliveries' channel (store/alerts.py)
OPERATOR = "operator"  # consent_network of what the operator added: no client network
IMPORTED = "import"  # consent_form of imported rows; consent_note says where consent came from

_s, _d = subscribers.c, deliveries.c


@dataclass(frozen=True)
class NewSubscriber:
    """One subscriber of an import, confirmed on the basis its row or the operator gave."""

    address_hash: str
    address: str
    frequency: str
    sections: tuple[str, ...] | None
    language: str | None
    consent_at: dt.datetime
    consent_basis: str  # import-consent-column, operator-confirmed
    consent_form: str  # where the consent was given (kept as consent_note): the operator's words


@dataclass(frozen=True)
class AlertStats:
    subscribers: dict[tuple[str, str], int]  # (status, frequency) -> n
    deliveries: dict[tuple[str, str], int]  # (kind, status) -> n, kind confirm/release/...
    hard_bounces: int
    soft_bounces: int
    # (language or '', sections JSON or None) -> status -> n: each list of subscribers
    lists: dict[tuple[str, str | None], Counter[str]]
    sent_by_list: dict[tuple[str, str | None], int]  # alert emails delivered to each list


def add_confirmed(
    engine: Engine,
    address_hash: str,
    address: str,
    frequency: str,
    sections: Sequence[str] | None,
    language: str | None,
    now: dt.datetime,
    basis: str,
) -> tuple[str, str]:
    """An address the operator vouches for, confirmed at once (no confirmation email):
    consent_basis "operator-confirmed", the operator's words kept whole in consent_note.
    (its id, what happened: "added", or "confirmed" / "suspended" for a subscription left
    exactly as it was)."""
    with writing(engine, SUBSCRIBERS_LOCK) as conn:
        subscriber_id, status = request_in(
            conn, address_hash, address, frequency, sections, language, now, OPERATOR, OPERATOR
        )
        if status != "pending":
            return subscriber_id, status
        conn.execute(
            update(subscribers)
            .where(_s.id == subscriber_id)
            .values(
                status="confirmed",
                confirmed_at=now,
                consent_at=now,
                consent_basis="operator-confirmed",
                consent_note=basis,
                updated_at=now,
            )
        )
    return subscriber_id, "added"


def known_hashes(engine: Engine, hashes: Sequence[str]) -> set[str]:
    """Which of these address hashes are stored already (any status)."""
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in in_chunks(sorted(set(hashes))):
            query = select(_s.address_hash).where(_s.address_hash.in_(chunk))
            found.update(str(h) for h in conn.execute(query).scalars())
    return found


def import_subscribers(engine: Engine, rows: Sequence[NewSubscriber], now: dt.datetime) -> int:
    """Insert confirmed subscribers in one transaction, a batch a statement (executemany:
    10,000 rows in well under a second); an address stored already is left as it is.
    How many were inserted."""
    if not rows:
        return 0
    dialect = dialects.of(engine)
    statement = dialect.insert(subscribers).on_conflict_do_nothing(index_elements=["address_hash"])
    values = [_row_of(row, now) for row in rows]
    with writing(engine, SUBSCRIBERS_LOCK) as conn:
        before = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
        for start in range(0, len(values), 2000):
            conn.execute(statement, values[start : start + 2000])
        after = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    return int(after - before)


def _row_of(row: NewSubscriber, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": _new_id(),
        "address_hash": row.address_hash,
        "address": row.address,
        "frequency": row.frequency,
        "sections": _sections(row.sections),
        "language": row.language,
        "status": "confirmed",
        "created_at": now,
        "confirmed_at": now,
        "consent_at": row.consent_at,
        "consent_network": OPERATOR,
        "consent_form": IMPORTED,
        "consent_note": row.consent_form,
        "consent_basis": row.consent_basis,
        "hard_bounces": 0,
        "soft_bounces": 0,
        "last_digest_at": None,
        "updated_at": now,
    }


def deliveries_of(engine: Engine, subscriber_id: str) -> list[dict[str, Any]]:
    """The alert emails that name this subscriber (their target is the id, never the
    address), oldest first, JSON-ready: for `feedsvc subscribers export`."""
    query = (
        select(_d.id, _d.status, _d.payload, _d.created_at, _d.delivered_at)
        .where(_d.channel == ALERT, _d.target == subscriber_id)
        .order_by(_d.id)
    )
    with engine.connect() as conn:
        return [
            {
                "delivery": row.id,
                "status": row.status,
                "about": json.loads(row.payload),
                "created_at": row.created_at.isoformat(),
                "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            }
            for row in conn.execute(query)
        ]


def erase_person(engine: Engine, address_hash: str) -> tuple[bool, Counter[str]]:
    """Everything kept of the person with this address: their subscriber row (consent
    record and all), the alert emails naming them with their attempts (pending ones are so
    never sent) and their subscribe requests (the form's limits). One claimed right now
    ("sending") is left to its dispatcher, whose channel finds nobody and cancels it.
    (whether a subscriber was stored, the erased emails by status)."""
    with writing(engine, SUBSCRIBERS_LOCK) as conn:
        subscriber_id = conn.execute(
            select(_s.id).where(_s.address_hash == address_hash)
        ).scalar_one_or_none()
        conn.execute(
            delete(subscription_requests).where(
                subscription_requests.c.address_hash == address_hash
            )
        )
        if subscriber_id is None:
            return False, Counter()
        mine = (_d.channel == ALERT, _d.target == subscriber_id, _d.status != "sending")
        found = conn.execute(select(_d.id, _d.status).where(*mine)).all()
        ids = [row.id for row in found]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(
                delete(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(chunk))
            )
            conn.execute(delete(deliveries).where(_d.id.in_(chunk)))
        conn.execute(delete(subscribers).where(_s.id == subscriber_id))
    return True, Counter(str(row.status) for row in found)


def stats(engine: Engine) -> AlertStats:
    """What `feedsvc stats --alerts` shows (issue 16: subscribers by frequency, sent,
    bounced, unsubscribed, per list)."""
    kind = func.coalesce(func.json_extract(_d.payload, "$.kind"), "?")
    if engine.dialect.name == "postgresql":
        kind = func.coalesce(cast(_d.payload, dialects.of(engine).JSONB)["kind"].astext, "?")
    language = func.coalesce(_s.language, "")
    with engine.connect() as conn:
        by_status = {
            (str(st), str(fr)): int(n)
            for st, fr, n in conn.execute(
                select(_s.status, _s.frequency, func.count()).group_by(_s.status, _s.frequency)
            )
        }
        sent = {
            (str(k), str(st)): int(n)
            for k, st, n in conn.execute(
                select(kind, _d.status, func.count())
                .where(_d.channel == ALERT)
                .group_by(kind, _d.status)
            )
        }
        hard, soft = conn.execute(
            select(
                func.coalesce(func.sum(_s.hard_bounces), 0),
                func.coalesce(func.sum(_s.soft_bounces), 0),
            )
        ).one()
        lists: dict[tuple[str, str | None], Counter[str]] = {}
        for lang, sections, status, n in conn.execute(
            select(language, _s.sections, _s.status, func.count()).group_by(
                language, _s.sections, _s.status
            )
        ):
            lists.setdefault((str(lang), sections), Counter())[str(status)] = int(n)
        delivered = (
            select(language, _s.sections, func.count())
            .select_from(deliveries.join(subscribers, _s.id == _d.target))
            .where(_d.channel == ALERT, _d.status == "delivered")
            .group_by(language, _s.sections)
        )
        sent_by_list = {
            (str(lang), sections): int(n) for lang, sections, n in conn.execute(delivered)
        }
    return AlertStats(by_status, sent, int(hard), int(soft), lists, sent_by_list)


__all__ = [
    "AlertStats",
    "NewSubscriber",
    "add_confirmed",
    "deliveries_of",
    "erase_person",
    "import_subscribers",
    "known_hashes",
    "stats",
]
