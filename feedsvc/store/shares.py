"""The SQL of "Suggest To A Friend": shares, their recipients (as keyed hashes), the
suppression list, spent form tokens, and the rate limits counted across instances."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, func, insert, select, update

from feedsvc.config import ShareSettings
from feedsvc.model import Outgoing
from feedsvc.privacy import masked
from feedsvc.store import dialects
from feedsvc.store.connector import SHARES_LOCK, writing
from feedsvc.store.enqueue import enqueue, payload_text, without_recipients
from feedsvc.store.outbox import ENDED
from feedsvc.store.schema import (
    deliveries,
    delivery_attempts,
    releases,
    share_minutes,
    share_recipients,
    shares,
    suppressions,
    used_tokens,
)

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


@dataclass(frozen=True)
class PendingShare:
    """A checked request, ready to store: everything but what the database decides."""

    id: str
    release_id: str
    nonce: str  # the form token's, spent by this share
    ip_hash: str
    sender_name: str | None
    # Not stored: the sharer's address is needed only as each email's Reply-To, which lives
    # in that email's delivery (issue 11). Kept here until the desk stops passing it.
    sender_email: str | None
    sender_hash: str | None
    message: str | None
    # (recipient hash, its email); a suppressed recipient's email is not queued.
    emails: Sequence[tuple[str, Outgoing]]
    announcements: Sequence[Outgoing] = field(default_factory=tuple)  # share.created
    trapped: bool = False  # the honeypot caught it: stored, nothing sent


@dataclass(frozen=True)
class Refusal:
    reason: str  # token, release, limit
    retry_after: int = 0  # seconds, for a limit
    limit: str = ""  # which limit


def _count(where: Any) -> Any:
    return select(func.count()).where(where)


_s, _r = shares.c, share_recipients.c


def _grouped(column: Any, created: Any) -> Any:
    """key -> count of rows since a moment, for a set of keys."""
    return (
        select(column, func.count())
        .where(column.in_(bindparam("keys", expanding=True)), created > bindparam("since"))
        .group_by(column)
    )


_BY_IP_IN = _grouped(_s.ip_hash, _s.created_at)
_BY_SENDER_IN = _grouped(_s.sender_hash, _s.created_at)
_BY_RECIPIENT_IN = _grouped(_r.recipient_hash, _r.created_at)
# The minute that holds the start of the hour counts whole: the limit errs by at most a
# minute's shares. `since` is that minute's start, computed in Python: SQLite would take
# `:since - interval` for arithmetic on text and count every row (found by issue 13).
_LAST_HOUR = select(func.coalesce(func.sum(share_minutes.c.count), 0)).where(
    share_minutes.c.minute > bindparam("since")
)
_OLDEST_BY_IP = select(func.min(_s.created_at)).where(
    _s.ip_hash == bindparam("h"), _s.created_at > bindparam("since")
)
_VISIBLE_IN = select(releases.c.id).where(
    releases.c.id.in_(bindparam("keys", expanding=True)),
    releases.c.seq.is_not(None),
    releases.c.withdrawn_at.is_(None),
)
_SUPPRESSED = select(suppressions.c.address_hash).where(
    suppressions.c.address_hash.in_(bindparam("keys", expanding=True))
)
_SPENT_IN = select(used_tokens.c.nonce).where(
    used_tokens.c.nonce.in_(bindparam("keys", expanding=True))
)
_INSERT_TOKENS = insert(used_tokens)
_INSERT_SHARE = insert(shares)
_INSERT_RECIPIENTS = insert(share_recipients)


def _set(conn: Any, query: Any, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    return set(conn.execute(query, {"keys": sorted(keys)}).scalars())


def _counts(conn: Any, query: Any, keys: set[str], since: dt.datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    if keys:
        rows = conn.execute(query, {"keys": sorted(keys), "since": since})
        counts.update({key: n for key, n in rows})
    return counts


class ShareStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def accept(
        self, batch: Sequence[PendingShare], now: dt.datetime, rules: ShareSettings
    ) -> list[Refusal | None]:
        """Store the shares that pass (None) and say why the others do not, in one
        transaction: a share, its recipients and its emails commit together, and every
        request is answered only after the commit.

        The batch is checked as a set: one query per kind of fact (visible releases, each
        limit's counts, spent tokens, suppressed addresses), then counted on in Python as
        the batch's own shares are admitted, one after another, so that a batch admits
        exactly what the same requests one at a time would have."""
        hour, day = now - HOUR, now - DAY
        with writing(self.engine, SHARES_LOCK) as conn:
            visible = _set(conn, _VISIBLE_IN, {s.release_id for s in batch})
            by_ip = _counts(conn, _BY_IP_IN, {s.ip_hash for s in batch}, hour)
            by_sender = _counts(
                conn, _BY_SENDER_IN, {s.sender_hash for s in batch if s.sender_hash}, day
            )
            by_recipient = _counts(
                conn, _BY_RECIPIENT_IN, {h for s in batch for h, _ in s.emails}, day
            )
            since = hour - dt.timedelta(minutes=1)
            overall = conn.execute(_LAST_HOUR, {"since": since}).scalar_one()
            spent = _set(conn, _SPENT_IN, {s.nonce for s in batch})
            outcomes: list[Refusal | None] = []
            admitted: list[PendingShare] = []
            for share in batch:
                refusal = self._check(
                    conn, share, now, rules, visible, by_ip, by_sender, by_recipient, overall
                )
                if refusal is None and share.nonce in spent:
                    refusal = Refusal("token")
                if refusal is None:
                    spent.add(share.nonce)
                    by_ip[share.ip_hash] += 1
                    if share.sender_hash:
                        by_sender[share.sender_hash] += 1
                    for h, _ in share.emails:
                        by_recipient[h] += 1
                    overall += 1
                    admitted.append(share)
                outcomes.append(refusal)
            if admitted:
                self._store(conn, admitted, now)
                minute = now.replace(second=0, microsecond=0)
                conn.execute(
                    _count_minute(conn),
                    {"minute": minute, "count": len(admitted)},
                )
        return outcomes

    def _check(
        self,
        conn: Any,
        share: PendingShare,
        now: dt.datetime,
        rules: ShareSettings,
        visible: set[str],
        by_ip: Counter[str],
        by_sender: Counter[str],
        by_recipient: Counter[str],
        overall: int,
    ) -> Refusal | None:
        if share.release_id not in visible:
            return Refusal("release")
        if by_ip[share.ip_hash] >= rules.per_ip_per_hour:
            oldest = conn.execute(_OLDEST_BY_IP, {"h": share.ip_hash, "since": now - HOUR}).scalar()
            wait = (oldest + HOUR - now).total_seconds() if oldest else HOUR.total_seconds()
            return Refusal("limit", max(1, int(wait) + 1), "per_ip_per_hour")
        if overall >= rules.global_per_hour:
            return Refusal("limit", 600, "global_per_hour")
        if share.sender_hash and by_sender[share.sender_hash] >= rules.per_sender_per_day:
            return Refusal("limit", 3600, "per_sender_per_day")
        if any(by_recipient[h] >= rules.per_recipient_per_day for h, _ in share.emails):
            return Refusal("limit", 3600, "per_recipient_per_day")
        return None

    def _store(self, conn: Any, admitted: Sequence[PendingShare], now: dt.datetime) -> None:
        hashes = {h for s in admitted if not s.trapped for h, _ in s.emails}
        suppressed = _set(conn, _SUPPRESSED, hashes)
        conn.execute(_INSERT_TOKENS, [{"nonce": s.nonce, "used_at": now} for s in admitted])
        conn.execute(
            _INSERT_SHARE,
            [
                {
                    "id": s.id,
                    "release_id": s.release_id,
                    "created_at": now,
                    "ip_hash": s.ip_hash,
                    # A share the honeypot caught keeps nothing it was sent.
                    "sender_name": None if s.trapped else s.sender_name,
                    "sender_hash": None if s.trapped else s.sender_hash,
                    "message": None if s.trapped else s.message,
                    "recipients": len(s.emails),
                    "clicks": 0,
                    "trapped": int(s.trapped),
                }
                for s in admitted
            ],
        )
        real = [s for s in admitted if not s.trapped]
        recipients = [
            {
                "share_id": s.id,
                "recipient_hash": h,
                "created_at": now,
                "suppressed": int(h in suppressed),
            }
            for s in real
            for h, _ in s.emails
        ]
        if recipients:
            conn.execute(_INSERT_RECIPIENTS, recipients)
        # A suppressed address gets nothing, and the sharer is told the same as for any.
        outgoing = [email for s in real for h, email in s.emails if h not in suppressed] + [
            a for s in real for a in s.announcements
        ]
        enqueue(conn, outgoing, now)

    # -- the recipient's side ---------------------------------------------------------------

    def suppress(self, address_hash: str, now: dt.datetime) -> None:
        with writing(self.engine) as conn:
            conn.execute(
                _insert_ignore(conn, suppressions, "address_hash"),
                {"address_hash": address_hash, "created_at": now},
            )
            # Nothing more to that address, not even what is already queued; and nothing is
            # kept of those emails (their addresses, the sharer's words) for a retry.
            pending = conn.execute(
                select(deliveries.c.id, deliveries.c.key).where(
                    deliveries.c.channel == "email",
                    deliveries.c.status.in_(("pending", "dead")),
                    deliveries.c.key.like("share % " + address_hash),
                )
            ).all()
            if pending:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([row.id for row in pending]))
                    .values(
                        status="cancelled",
                        last_error="the recipient unsubscribed",
                        updated_at=now,
                        target="",
                        payload="{}",
                    )
                )

    def is_suppressed(self, address_hash: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(_SUPPRESSED, {"keys": [address_hash]}).first() is not None

    def click(self, share_id: str) -> str | None:
        """Count a click-through; the release it leads to (None for an unknown share)."""
        with writing(self.engine) as conn:
            row = conn.execute(select(_s.release_id).where(_s.id == share_id)).first()
            if row is None:
                return None
            conn.execute(update(shares).where(_s.id == share_id).values(clicks=_s.clicks + 1))
            return row.release_id

    def get(self, share_id: str) -> tuple[str, dt.datetime, int] | None:
        """(release id, created, recipients) of a share."""
        query = select(_s.release_id, _s.created_at, _s.recipients).where(_s.id == share_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.release_id, row.created_at, row.recipients)

    def stats(self) -> list[tuple[str, int, int, int]]:
        """(release id, shares, emails queued, click-throughs), the most shared first. An
        address on the suppression list when it was shared to got no email."""
        unsent = (
            select(_r.share_id, func.count().label("n"))
            .where(_r.suppressed != 0)
            .group_by(_r.share_id)
            .subquery()
        )
        emails = _s.recipients - func.coalesce(unsent.c.n, 0)
        query = (
            select(_s.release_id, func.count(), func.sum(emails), func.sum(_s.clicks))
            .select_from(shares.outerjoin(unsent, unsent.c.share_id == _s.id))
            .where(_s.trapped == 0)
            .group_by(_s.release_id)
            .order_by(func.count().desc(), _s.release_id)
        )
        with self.engine.connect() as conn:
            return [(rid, n, int(r or 0), int(c or 0)) for rid, n, r, c in conn.execute(query)]

    def totals(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            n, clicks = conn.execute(
                select(func.count(), func.sum(_s.clicks)).where(_s.trapped == 0)
            ).one()
        return n, int(clicks or 0)

    # -- privacy ---------------------------------------------------------------------------

    def erase(self, before: dt.datetime, tokens_before: dt.datetime) -> tuple[int, int]:
        """Erase what names a person in shares older than `before`; in deliveries that ended
        before it, the addresses and texts of emails, the recipients of share.created
        events, and any address in an error (the outbox's and its attempts'); forget spent
        tokens that could not be used anyway. Returns (shares, deliveries) erased."""
        d = deliveries.c
        with writing(self.engine) as conn:
            erased = conn.execute(
                update(shares)
                .where(_s.created_at < before, _s.erased_at.is_(None))
                .values(
                    sender_name=None,
                    sender_email=None,
                    sender_hash=None,
                    message=None,
                    ip_hash=None,
                    erased_at=func.coalesce(_s.erased_at, bindparam("now")),
                ),
                {"now": before},
            ).rowcount
            # Kept in clear by feedsvc before issue 11 (and by one still running beside
            # this during an upgrade): gone at the first purge, whatever its age.
            conn.execute(
                update(shares).where(_s.sender_email.is_not(None)).values(sender_email=None)
            )
            ended = and_(d.status.in_(ENDED), d.updated_at < before)
            emails = conn.execute(
                update(deliveries)
                .where(d.channel == "email", d.target != "", ended)
                .values(target="", payload="{}")
            ).rowcount
            events = conn.execute(
                select(d.id, d.payload).where(
                    d.channel == "webhook",
                    d.key.like("share.created %"),
                    d.payload.like('%"to":%'),
                    ended,
                )
            ).all()
            for delivery_id, payload in events:
                conn.execute(
                    update(deliveries)
                    .where(d.id == delivery_id)
                    .values(payload=payload_text(without_recipients(json.loads(payload))))
                )
            _mask_errors(conn, before)
            conn.execute(delete(used_tokens).where(used_tokens.c.used_at < tokens_before))
            old = tokens_before - HOUR  # the overall limit looks back one hour
            conn.execute(delete(share_minutes).where(share_minutes.c.minute < old))
        return erased, emails + len(events)


def _mask_errors(conn: Any, before: dt.datetime) -> None:
    """Mask the addresses in the errors kept of deliveries and attempts older than `before`:
    errors are masked as they are recorded, but a feedsvc before issue 11 kept them whole."""
    d, a = deliveries.c, delivery_attempts.c
    for delivery_id, error in conn.execute(
        select(d.id, d.last_error).where(d.last_error.like("%@%"), d.updated_at < before)
    ).all():
        if masked(error) != error:
            conn.execute(
                update(deliveries).where(d.id == delivery_id).values(last_error=masked(error))
            )
    attempts = select(a.delivery_id, a.number, a.error).where(
        a.error.like("%@%"), a.finished_at < before
    )
    for delivery_id, number, error in conn.execute(attempts).all():
        if masked(error) != error:
            conn.execute(
                update(delivery_attempts)
                .where(a.delivery_id == delivery_id, a.number == number, a.error == error)
                .values(error=masked(error))
            )


def _count_minute(conn: Any) -> Any:
    return _minute_upsert_of(conn.dialect.name)


def _minute_upsert(dialect: Any) -> Any:
    statement = dialect.insert(share_minutes)
    return statement.on_conflict_do_update(
        index_elements=["minute"],
        set_={"count": share_minutes.c.count + statement.excluded["count"]},
    )


# Made once (issue 18): building it, `excluded` above all, cost a batch of shares ~0.3 ms.
@cache
def _minute_upsert_of(name: str) -> Any:
    return _minute_upsert(dialects.dialect_module(name))


def _insert_ignore(conn: Any, table: Any, key: str) -> Any:
    return dialects.of(conn).insert(table).on_conflict_do_nothing(index_elements=[key])
