"""What the outbox holds, read: deliveries and their attempts for people (`feedsvc
outbox`), the state of webhook endpoints, and the numbers /metrics shows. The outbox
manager (store/outbox.py) adds what writes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from feedsvc.model import Delivery
from feedsvc.store.schema import deliveries, delivery_attempts, webhook_endpoints

__all__ = ["COLUMNS", "Attempt", "Endpoint", "OutboxReads", "delivery_of"]


COLUMNS = (
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


class OutboxReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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

    def endpoints(self) -> list[Endpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.url))
            return [Endpoint(*row) for row in rows]

    def disabled_endpoints(self) -> int:
        """How many webhook endpoints are disabled (a gauge)."""
        query = select(func.count()).where(webhook_endpoints.c.disabled_at.is_not(None))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def list(
        self,
        status: str | None = None,
        channel: str | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        """Deliveries, the newest first."""
        c = deliveries.c
        query = select(*COLUMNS).order_by(c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(c.status == status)
        if channel is not None:
            query = query.where(c.channel == channel)
        with self.engine.connect() as conn:
            return [delivery_of(row) for row in conn.execute(query)]

    def get(self, delivery_id: int) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*COLUMNS).where(deliveries.c.id == delivery_id)).first()
        return None if row is None else delivery_of(row)

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

    def counts(self) -> Counter[tuple[str, str]]:
        """(channel, status) -> how many deliveries."""
        c = deliveries.c
        query = select(c.channel, c.status, func.count()).group_by(c.channel, c.status)
        with self.engine.connect() as conn:
            return Counter({(ch, st): n for ch, st, n in conn.execute(query)})


def delivery_of(row: Any) -> Delivery:
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
