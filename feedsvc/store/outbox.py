"""The outbox's writes: deliveries, their attempts, and the state of webhook endpoints
(the reads are in store/outbox_reads.py).

A delivery is claimed with a lease: whoever claims it holds a token, and only the holder of
the token records the outcome. A holder that died leaves a lease that expires, and the row
is claimed again: at-least-once, with the same message id on every attempt.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    bindparam,
    case,
    delete,
    insert,
    select,
    update,
)

from feedsvc.model import Delivery, Outgoing
from feedsvc.privacy import masked
from feedsvc.store.connector import writing
from feedsvc.store.enqueue import enqueue, payload_text, without_recipients
from feedsvc.store.outbox_reads import COLUMNS, Attempt, Endpoint, OutboxReads, delivery_of
from feedsvc.store.schema import UTCDateTime, deliveries, delivery_attempts, webhook_endpoints

__all__ = [
    "ENDED",
    "Attempt",
    "Claim",
    "Endpoint",
    "Outbox",
]

ENDED = ("delivered", "cancelled", "dead")  # nothing more is sent unless retried by hand


@dataclass(frozen=True)
class Claim:
    """Deliveries claimed together, and the token that proves it."""

    token: str
    at: dt.datetime
    deliveries: list[Delivery]


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
    "cancelled": _record_statement("cancelled"),
}
# Issue 16: claimed first, so a fan-out of 100,000 alerts queued ahead of them never makes
# shares, webhooks and hub pings wait; alerts take what a claim has room left for.
FIRST_CHANNELS = ("email", "webhook", "websub")
LAST_CHANNELS = ("alert",)
_ATTEMPT = insert(delivery_attempts)


_COLUMNS_CLAIMED = (deliveries.c.id, deliveries.c.status, deliveries.c.attempts)


def _due(
    conn: Connection, now: dt.datetime, limit: int, channels: Collection[str] | None
) -> list[Any]:
    """Up to `limit` due deliveries, in the order they are claimed: those whose sender
    died (an expired lease) first, then the oldest due shares, webhooks and pings, then
    alerts (issue 16: a fan-out of 100,000 never makes the others wait). Each query is one
    range of an index in its order (deliveries_lease; deliveries_channel_due per channel):
    with 100,000 alerts due, one ORDER BY over them all cost ~70 ms a claim."""
    c = deliveries.c
    columns = (*_COLUMNS_CLAIMED, c.updated_at, c.next_attempt_at)

    def rows(query: Any, room: int) -> list[Any]:
        query = query.limit(room)
        if conn.dialect.name == "postgresql":
            # Several instances claim at once; each skips the rows another holds.
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).all())

    expired = select(*columns).where(c.status == "sending", c.lease_until <= now)
    if channels is not None:
        expired = expired.where(c.channel.in_(sorted(channels)))
    found = rows(expired.order_by(c.lease_until, c.id), limit)
    pending = select(*columns).where(c.status == "pending", c.next_attempt_at <= now)
    for group in (FIRST_CHANNELS, LAST_CHANNELS):
        wanted = [ch for ch in group if channels is None or ch in channels]
        room = limit - len(found)
        if room <= 0 or not wanted:
            continue
        # One ordered range a channel, merged: the group's oldest first.
        due = [
            row
            for channel in wanted
            for row in rows(
                pending.where(c.channel == channel).order_by(c.next_attempt_at, c.id), room
            )
        ]
        found += sorted(due, key=lambda row: (row.next_attempt_at, row.id))[:room]
    return found


class _DriverStatements:
    """The outcome statements run by the database driver itself: each compiled once for
    the dialect, its parameters put in order and its moments converted as the column type
    would (UTCDateTime), then executed on the transaction's DBAPI cursor. A record a send
    is the dispatcher's commonest write, and SQLAlchemy's execution around it cost more
    than SQLite did (issue 16)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[int, tuple[Any, str, Any]] = {}
        moment = UTCDateTime()
        impl = moment.dialect_impl(dialect)
        self._moment = impl.bind_processor(dialect) or (lambda value: value)

    def run(self, conn: Connection, statement: Any, values: dict[str, Any]) -> int:
        known = self._compiled.get(id(statement))
        if known is None or known[0] is not statement:
            compiled = statement.compile(dialect=self.dialect)
            known = (statement, compiled.string, compiled)
            self._compiled[id(statement)] = known
        _, sql, compiled = known
        params = {
            name: self._moment(value) if isinstance(value, dt.datetime) else value
            for name, value in compiled.construct_params(values).items()
        }
        # The transaction's own DBAPI connection: SQLAlchemy's execution context, even
        # for exec_driver_sql, cost more than the statement.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if compiled.positional:
                cursor.execute(sql, tuple(params[n] for n in compiled.positiontup))
            else:
                cursor.execute(sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()


_DRIVER: dict[str, _DriverStatements] = {}


def _driver_statements(dialect: Dialect) -> _DriverStatements:
    found = _DRIVER.get(dialect.name)
    if found is None or found.dialect is not dialect:
        found = _DRIVER[dialect.name] = _DriverStatements(dialect)
    return found


class Outbox(OutboxReads):
    def enqueue(self, outgoing: Iterable[Outgoing], now: dt.datetime) -> int:
        with self._writing() as conn:
            return enqueue(conn, outgoing, now)

    # -- the dispatcher's side ------------------------------------------------------------

    def claim_due(
        self,
        now: dt.datetime,
        limit: int,
        lease: dt.timedelta,
        channels: Collection[str] | None = None,
    ) -> Claim:
        """Claim up to `limit` due deliveries: pending ones whose time has come, and sending
        ones whose lease expired (their sender died); of `channels` only, if given (a
        dispatcher claims only what it can send). Each claim counts as an attempt."""
        c = deliveries.c
        token = uuid.uuid4().hex
        # The rows' own time (a CASE, not an OR of two indexed ranges: SQLite then scanned
        # the due index instead of fetching the 50 ids, ~40 ms with 100,000 alerts due).
        due = (
            case((c.status == "pending", c.next_attempt_at), (c.status == "sending", c.lease_until))
            <= now
        )
        with self._writing() as conn:
            found = _due(conn, now, limit, channels)
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
                .returning(*COLUMNS)
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
        items = sorted(
            (delivery_of(row) for row in claimed), key=lambda d: (d.next_attempt_at, d.id)
        )
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
        cancelled: bool = False,
    ) -> bool:
        """A failed attempt: pending again at `retry_at`, or dead when that is None; or
        `cancelled`: there was nothing to send after all (issue 16: the release was
        withdrawn, the subscriber left)."""
        outcome = "cancelled" if cancelled else "dead" if retry_at is None else "retry"
        return self._record(delivery, claim, now, outcome, error, None if cancelled else retry_at)

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
            driver = _driver_statements(conn.dialect)
            recorded = driver.run(
                conn,
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
            if recorded != 1:
                return False
            driver.run(
                conn,
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

    # -- for people: feedsvc outbox ---------------------------------------------------------

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
        """Never send a delivery that has not been sent. An email's recipient and text go
        with it (issue 17: a revoked preview's address and link are kept no longer than the
        message needed them), as when one is delivered."""
        c = deliveries.c
        email = c.channel == "email"
        with self._writing() as conn:
            result = conn.execute(
                update(deliveries)
                .where(c.id == delivery_id, c.status.in_(("pending", "dead")))
                .values(
                    status="cancelled",
                    updated_at=now,
                    last_error="cancelled by hand",
                    target=case((email, ""), else_=c.target),
                    payload=case((email, "{}"), else_=c.payload),
                )
            )
            return result.rowcount == 1

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
