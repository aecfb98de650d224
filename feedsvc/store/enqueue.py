"""Messages into the outbox, in the caller's transaction: the same transaction as the fact
that caused them (a change of releases, an accepted share), so both commit or neither."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

from sqlalchemy import Connection, select

from feedsvc.model import Outgoing
from feedsvc.store import dialects
from feedsvc.store.schema import deliveries, webhook_endpoints

__all__ = ["enqueue", "insert_ignoring_keys", "payload_text", "without_recipients"]


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
    result = conn.execute(insert_ignoring_keys(conn).returning(deliveries.c.id), rows)
    return len(result.all())


def payload_text(payload: dict[str, Any]) -> str:
    """A payload as the outbox stores it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def insert_ignoring_keys(conn: Connection) -> Any:
    """INSERT INTO deliveries, a row whose key is stored already left out (the rows may
    be given, or a SELECT: the alerts' fan-out, store/alerts.py)."""
    if conn.dialect.name in ("sqlite", "postgresql"):
        insert = dialects.of(conn).insert
        return insert(deliveries).on_conflict_do_nothing(index_elements=["key"])
    raise NotImplementedError(f"the outbox does not support {conn.dialect.name}")


def without_recipients(payload: dict[str, Any]) -> dict[str, Any]:
    """A share.created event without the addresses an endpoint with include_recipients
    gets (their count stays)."""
    data = {k: v for k, v in payload.get("data", {}).items() if k != "to"}
    return {**payload, "data": data}
