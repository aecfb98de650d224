"""The outbox's SQL: deliveries, their attempts, and the state of webhook endpoints.

A delivery is claimed with a lease: whoever claims it holds a token, and only the holder of
the token records the outcome. A holder that died leaves a lease that expires, and the row
is claimed again: at-least-once, with the same message id on every attempt.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from feedsvc.model import Delivery, Outgoing
from feedsvc.privacy import masked
from feedsvc.store.schema import deliveries, delivery_attempts, webhook_endpoints

__all__ = [
    "ENDED",
    "Attempt",
    "Claim",
    "Endpoint",
    "Outbox",
    "enqueue",
    "payload_text",
    "without_recipients",
]

ENDED = ("delivered", "cancelled", "dead")  # nothing more is sent unless retried by hand

_COLUMNS = (
    deliveries.c.id,
    deliveries.c.channel,
    deliveries.c.target,
    deliveries.c.payload,
    deliveries.c.key,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.created_at,
    deliveries.c.next_attempt_at,
    deliveries.c.subject,
    deliveries.c.last_error,
    deliveries.c.delivered_at,
)


@dataclass(frozen=True)
class Claim:
    """Deliveries claimed together, and the token that proves it."""

    token: str
    at: dt.datetime
    deliveries: list[Delivery]


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: str  # delivered, retry, dead, interrupted, released
    error: str | None


@dataclass(frozen=True)
class Endpoint:
    url: str
    failing_since: dt.datetime | None
    disabled_at: dt.datetime | None
    disabled_reason: str | None


def enqueue(conn: Connection, outgoing: Iterable[Outgoing], now: dt.datetime) -> int:
    """Store messages to send, in the caller's transaction. A message whose key is already
    stored is the same message and is left out; so is a webhook to a disabled endpoint,
    and a hub ping for a topic that already has a ping waiting (one is enough).
    `outgoing` is taken a batch at a time (it may be a generator): a change announced to
    many is never held whole; a key an earlier batch stored is left out like any other."""
    taking, total = iter(outgoing), 0
    while batch := list(islice(taking, _ENQUEUE_BATCH)):
        total += _enqueue_batch(conn, batch, now)
    return total


_ENQUEUE_BATCH = 1000  # messages a statement


def _enqueue_batch(conn: Connection, items: list[Outgoing], now: dt.datetime) -> int:
    c = deliveries.c
    if any(o.channel == "webhook" for o in items):
        disabled = set(
            conn.execute(
                select(webhook_endpoints.c.url).where(webhook_endpoints.c.disabled_at.is_not(None))
            ).scalars()
        )
        items = [o for o in items if not (o.channel == "webhook" and o.target in disabled)]
    if any(o.channel == "websub" for o in items):
        waiting = {
            (target, subject)
            for target, subject in conn.execute(
                select(c.target, c.subject).where(
                    c.channel == "websub", c.status == "pending", c.attempts == 0
                )
            )
        }
        items = [
            o for o in items if not (o.channel == "websub" and (o.target, o.subject) in waiting)
        ]
    rows = [
        {
            "channel": o.channel,
            "target": o.target,
            "subject": o.subject,
            "payload": payload_text(o.payload),
            "key": o.key,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "updated_at": now,
        }
        for o in {o.key: o for o in items}.values()
    ]
    if not rows:
        return 0
    # RETURNING: the rows really inserted (a driver's rowcount for many rows is not to be
    # trusted, and a key already stored inserts nothing).
    result = conn.execute(_insert_ignoring_keys(conn).returning(deliveries.c.id), rows)
    return len(result.all())


def payload_text(payload: dict[str, Any]) -> str:
    """A payload as the outbox stores it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _insert_ignoring_keys(conn: Connection) -> Any:
    if conn.dialect.name == "sqlite":
        return sqlite.insert(deliveries).on_conflict_do_nothing(index_elements=["key"])
    if conn.dialect.name == "postgresql":
        return postgresql.insert(deliveries).on_conflict_do_nothing(index_elements=["key"])
    raise NotImplementedError(f"the outbox does not support {conn.dialect.name}")


def without_recipients(payload: dict[str, Any]) -> dict[str, Any]:
    """A share.created event without the addresses an endpoint with include_recipients
    gets (their count stays)."""
    data = {k: v for k, v in payload.get("data", {}).items() if k != "to"}
    return {**payload, "data": data}


def _names_recipients(payload: dict[str, Any]) -> bool:
    return payload.get("type") == "share.created" and "to" in payload.get("data", {})


def _kept_payload(delivery: Delivery, outcome: str) -> dict[str, Any] | None:
    """What stays of the payload once `outcome` is recorded, when that is less than all of
    it (issue 11: an address is kept no longer than its message needs it). A dead email
    keeps its recipient, for a retry by hand until the retention purge, but not the
    sharer's Reply-To; a delivered share.created keeps no recipient."""
    payload = delivery.payload
    if outcome == "dead" and delivery.channel == "email" and payload.get("reply_to"):
        return {k: v for k, v in payload.items() if k != "reply_to"}
    if outcome == "delivered" and _names_recipients(payload):
        return without_recipients(payload)
    return None


def _record_statement(status: str, erase: bool = False, payload: bool = False) -> Any:
    c = deliveries.c
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "lease_token": None,
        "updated_at": bindparam("b_now"),
        "last_error": bindparam("b_error"),
    }
    if status == "delivered":
        values["delivered_at"] = bindparam("b_now")
    if erase:
        # An email's recipient and text are kept only until it is delivered (privacy).
        values["target"] = ""
        values["payload"] = "{}"
    if payload:
        values["payload"] = bindparam("b_payload")
    if status == "pending":
        values["next_attempt_at"] = bindparam("b_retry_at")
    return (
        update(deliveries)
        .where(
            c.id == bindparam("b_id"), c.lease_token == bindparam("b_token"), c.status == "sending"
        )
        .values(**values)
    )


_RECORD = {
    "delivered": _record_statement("delivered"),
    "delivered email": _record_statement("delivered", erase=True),
    "delivered, less payload": _record_statement("delivered", payload=True),
    "retry": _record_statement("pending"),
    "dead": _record_statement("dead"),
    "dead, less payload": _record_statement("dead", payload=True),
}
_ATTEMPT = insert(delivery_attempts)


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, outgoing: Iterable[Outgoing], now: dt.datetime) -> int:
        with self._writing() as conn:
            return enqueue(conn, outgoing, now)

    # -- the dispatcher's side ------------------------------------------------------------

    def claim_due(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> Claim:
        """Claim up to `limit` due deliveries: pending ones whose time has come, and sending
        ones whose lease expired (their sender died). Each claim counts as an attempt."""
        c = deliveries.c
        token = uuid.uuid4().hex
        due = or_(
            and_(c.status == "pending", c.next_attempt_at <= now),
            and_(c.status == "sending", c.lease_until <= now),
        )
        query = select(c.id, c.status, c.attempts, c.updated_at).where(due)
        query = query.order_by(c.next_attempt_at, c.id).limit(limit)
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                # Several instances claim at once; each skips the rows another holds.
                query = query.with_for_update(skip_locked=True)
            found = conn.execute(query).all()
            if not found:
                return Claim(token, now, [])
            claimed = conn.execute(
                update(deliveries)
                # `due` again: a second line of defence should the lock ever be missing.
                .where(c.id.in_([row.id for row in found]), due)
                .values(
                    status="sending",
                    attempts=c.attempts + 1,
                    lease_until=now + lease,
                    lease_token=token,
                    updated_at=now,
                )
                .returning(*_COLUMNS)
            ).all()
            # A claim taken over from a sender that died: its attempt ended without a word.
            lost = [
                {
                    "delivery_id": row.id,
                    "number": row.attempts,
                    "started_at": row.updated_at,  # when it was claimed
                    "finished_at": now,
                    "outcome": "interrupted",
                    "error": "the sender stopped before recording an outcome (lease expired)",
                }
                for row in found
                if row.status == "sending" and row.id in {d.id for d in claimed}
            ]
            if lost:
                conn.execute(insert(delivery_attempts), lost)
        items = sorted((_delivery(row) for row in claimed), key=lambda d: (d.next_attempt_at, d.id))
        return Claim(token, now, items)

    def record_delivered(self, delivery: Delivery, claim: Claim, now: dt.datetime) -> bool:
        """Mark a claimed delivery delivered. False if the claim was lost meanwhile."""
        return self._record(delivery, claim, now, "delivered", None, None)

    def record_failure(
        self,
        delivery: Delivery,
        claim: Claim,
        now: dt.datetime,
        error: str,
        retry_at: dt.datetime | None,
    ) -> bool:
        """A failed attempt: pending again at `retry_at`, or dead when that is None."""
        return self._record(
            delivery, claim, now, "dead" if retry_at is None else "retry", error, retry_at
        )

    def release(self, unsent: Sequence[Delivery], claim: Claim, now: dt.datetime) -> int:
        """Give back claimed deliveries that were not tried (the service is stopping): they
        are due again at once, and the claim does not count as an attempt."""
        if not unsent:
            return 0
        c = deliveries.c
        with self._writing() as conn:
            result = conn.execute(
                update(deliveries)
                .where(
                    c.id.in_([d.id for d in unsent]),
                    c.lease_token == claim.token,
                    c.status == "sending",
                )
                .values(
                    status="pending",
                    attempts=c.attempts - 1,
                    lease_until=None,
                    lease_token=None,
                    updated_at=now,
                )
            )
            return result.rowcount

    def _record(
        self,
        delivery: Delivery,
        claim: Claim,
        now: dt.datetime,
        outcome: str,
        error: str | None,
        retry_at: dt.datetime | None,
    ) -> bool:
        # One short transaction a send, so a crash repeats at most what was in flight. The
        # statements are built once: building them each time cost more than SQLite did.
        if error is not None:
            # An SMTP refusal names the recipient ("550 <x@y> refused"): the error is kept
            # (deliveries, attempts) longer than the address may be (issue 11).
            error = masked(error)
        kept = _kept_payload(delivery, outcome)
        if outcome == "delivered" and delivery.channel == "email":
            statement = _RECORD["delivered email"]
        elif kept is not None:
            statement = _RECORD[f"{outcome}, less payload"]
        else:
            statement = _RECORD[outcome]
        with self._writing() as conn:
            result = conn.execute(
                statement,
                {
                    "b_id": delivery.id,
                    "b_token": claim.token,
                    "b_now": now,
                    "b_error": error,
                    "b_retry_at": retry_at,
                    "b_payload": None if kept is None else payload_text(kept),
                },
            )
            if result.rowcount != 1:
                return False
            conn.execute(
                _ATTEMPT,
                {
                    "delivery_id": delivery.id,
                    "number": delivery.attempts,
                    "started_at": claim.at,
                    "finished_at": now,
                    "outcome": outcome,
                    "error": error,
                },
            )
        return True

    def next_due(self) -> dt.datetime | None:
        """When the next pending delivery falls due, or a lease runs out."""
        c = deliveries.c
        with self.engine.connect() as conn:
            pending = conn.execute(
                select(func.min(c.next_attempt_at)).where(c.status == "pending")
            ).scalar()
            leased = conn.execute(
                select(func.min(c.lease_until)).where(c.status == "sending")
            ).scalar()
        moments = [m.replace(tzinfo=dt.UTC) for m in (pending, leased) if m is not None]
        return min(moments, default=None)

    # -- webhook endpoints ----------------------------------------------------------------

    def endpoint_succeeded(self, url: str) -> None:
        with self._writing() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(
                    webhook_endpoints.c.url == url, webhook_endpoints.c.failing_since.is_not(None)
                )
                .values(failing_since=None)
            )

    def endpoint_failed(self, url: str, now: dt.datetime) -> dt.datetime:
        """Note a failure; returns since when the endpoint has been failing."""
        e = webhook_endpoints.c
        with self._writing() as conn:
            since = conn.execute(select(e.failing_since).where(e.url == url)).first()
            if since is None:
                conn.execute(insert(webhook_endpoints).values(url=url, failing_since=now))
                return now
            if since[0] is None:
                conn.execute(
                    update(webhook_endpoints).where(e.url == url).values(failing_since=now)
                )
                return now
            return since[0]

    def disable_endpoint(self, url: str, now: dt.datetime, reason: str) -> int:
        """Stop sending to an endpoint: its waiting deliveries are cancelled (kept, with the
        reason, for `feedsvc outbox retry` once it is enabled again). Returns how many."""
        e, c = webhook_endpoints.c, deliveries.c
        with self._writing() as conn:
            known = conn.execute(select(e.url).where(e.url == url)).first()
            if known is None:
                conn.execute(insert(webhook_endpoints).values(url=url))
            conn.execute(
                update(webhook_endpoints)
                .where(e.url == url)
                .values(disabled_at=now, disabled_reason=reason)
            )
            result = conn.execute(
                update(deliveries)
                .where(c.channel == "webhook", c.target == url, c.status == "pending")
                .values(
                    status="cancelled",
                    last_error=masked(f"endpoint disabled: {reason}"),
                    updated_at=now,
                )
            )
            return result.rowcount

    def enable_endpoint(self, url: str) -> bool:
        e = webhook_endpoints.c
        with self._writing() as conn:
            result = conn.execute(
                update(webhook_endpoints)
                .where(e.url == url)
                .values(disabled_at=None, disabled_reason=None, failing_since=None)
            )
            return result.rowcount == 1

    def endpoints(self) -> list[Endpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.url))
            return [Endpoint(*row) for row in rows]

    # -- for people: feedsvc outbox ---------------------------------------------------------

    def list(
        self,
        status: str | None = None,
        channel: str | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        """Deliveries, the newest first."""
        c = deliveries.c
        query = select(*_COLUMNS).order_by(c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(c.status == status)
        if channel is not None:
            query = query.where(c.channel == channel)
        with self.engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(query)]

    def get(self, delivery_id: int) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(deliveries.c.id == delivery_id)).first()
        return None if row is None else _delivery(row)

    def attempts(self, delivery_id: int) -> list[Attempt]:
        """Every recorded attempt, in the order they were made. `number` counts within a
        round: a retry by hand starts a new round at 1."""
        a = delivery_attempts.c
        query = (
            select(a.number, a.started_at, a.finished_at, a.outcome, a.error)
            .where(a.delivery_id == delivery_id)
            .order_by(a.started_at, a.finished_at, a.number)
        )
        with self.engine.connect() as conn:
            return [Attempt(*row) for row in conn.execute(query)]

    def retry(self, now: dt.datetime, ids: Iterable[int] | None = None) -> int:
        """Make deliveries due now: dead or cancelled ones (the given ones, or every dead
        one) with a fresh round of attempts; given ones that are pending, waiting for their
        next attempt, in the round they are in. Returns how many are due now."""
        c = deliveries.c
        ended = update(deliveries).values(
            status="pending", attempts=0, next_attempt_at=now, updated_at=now
        )
        if ids is None:
            with self._writing() as conn:
                return conn.execute(ended.where(c.status == "dead")).rowcount
        chosen = list(ids)
        waiting = (
            update(deliveries)
            .where(c.id.in_(chosen), c.status == "pending")
            .values(
                next_attempt_at=case((c.next_attempt_at > now, now), else_=c.next_attempt_at),
                updated_at=now,
            )
        )
        with self._writing() as conn:
            # The waiting ones first: the revived ones are pending too once revived.
            brought_forward = conn.execute(waiting).rowcount
            revived = conn.execute(
                ended.where(c.id.in_(chosen), c.status.in_(("dead", "cancelled")))
            ).rowcount
            return brought_forward + revived

    def cancel(self, delivery_id: int, now: dt.datetime) -> bool:
        """Never send a delivery that has not been sent."""
        c = deliveries.c
        with self._writing() as conn:
            result = conn.execute(
                update(deliveries)
                .where(c.id == delivery_id, c.status.in_(("pending", "dead")))
                .values(status="cancelled", updated_at=now, last_error="cancelled by hand")
            )
            return result.rowcount == 1

    def counts(self) -> Counter[tuple[str, str]]:
        """(channel, status) -> how many deliveries."""
        c = deliveries.c
        query = select(c.channel, c.status, func.count()).group_by(c.channel, c.status)
        with self.engine.connect() as conn:
            return Counter({(ch, st): n for ch, st, n in conn.execute(query)})

    def purge(self, before: dt.datetime) -> int:
        """Forget deliveries that ended (delivered, cancelled, dead) and were last touched
        before `before`, with their attempts. A dead one can be retried by hand until then."""
        c = deliveries.c
        old = select(c.id).where(c.status.in_(ENDED), c.updated_at < before)
        with self._writing() as conn:
            ids = list(conn.execute(old).scalars())
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                conn.execute(
                    delete(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(chunk))
                )
                conn.execute(delete(deliveries).where(c.id.in_(chunk)))
        return len(ids)

    def _writing(self) -> AbstractContextManager[Connection]:
        return writing(self.engine)


# PostgreSQL advisory locks (transaction scope) for writes that must take turns across
# instances: the published set (archive positions are numbered in turn) and the shares
# (limits and single-use tokens are checked, then written).
RELEASES_LOCK, SHARES_LOCK = 0x66656501, 0x66656502


@contextmanager
def writing(engine: Engine, turn: int | None = None) -> Iterator[Connection]:
    """A write transaction. On SQLite it starts with BEGIN IMMEDIATE: the write lock is
    taken first, so two processes never both read and then fail to upgrade to writing.
    Threads of one process queue on a lock of their own first: SQLite's busy handler
    would make them sleep whole milliseconds each time they met. On PostgreSQL, `turn`
    names an advisory lock held until the transaction ends (SQLite's one writer at a
    time, where it matters)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if turn is not None:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": turn})
            yield conn
        return
    with _sqlite_lock(engine), engine.begin() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def _sqlite_lock(engine: Engine) -> threading.Lock:
    with _LOCKS_LOCK:
        lock = _LOCKS.get(engine)
        if lock is None:
            lock = _LOCKS[engine] = threading.Lock()
        return lock


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"],
        channel=m["channel"],
        target=m["target"],
        payload=json.loads(m["payload"]),
        key=m["key"],
        status=m["status"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        subject=m["subject"],
        last_error=m["last_error"],
        delivered_at=m["delivered_at"],
    )
