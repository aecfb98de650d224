"""The SQL of "Suggest To A Friend": shares, their recipients (as keyed hashes), the
suppression list, spent form tokens, and the rate limits counted across instances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from feedsvc.config import ShareSettings
from feedsvc.model import Outgoing
from feedsvc.store.outbox import enqueue, writing
from feedsvc.store.schema import (
    deliveries,
    releases,
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
_BY_IP = _count(and_(_s.ip_hash == bindparam("h"), _s.created_at > bindparam("since")))
_BY_SENDER = _count(and_(_s.sender_hash == bindparam("h"), _s.created_at > bindparam("since")))
_ALL = _count(_s.created_at > bindparam("since"))
_BY_RECIPIENT = _count(
    and_(_r.recipient_hash == bindparam("h"), _r.created_at > bindparam("since"))
)
_OLDEST_BY_IP = select(func.min(_s.created_at)).where(
    _s.ip_hash == bindparam("h"), _s.created_at > bindparam("since")
)
_VISIBLE = select(releases.c.id).where(
    releases.c.id == bindparam("id"),
    releases.c.seq.is_not(None),
    releases.c.withdrawn_at.is_(None),
)
_SUPPRESSED = select(suppressions.c.address_hash).where(
    suppressions.c.address_hash.in_(bindparam("hashes", expanding=True))
)
_INSERT_SHARE = insert(shares)
_INSERT_RECIPIENTS = insert(share_recipients)


class ShareStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def accept(
        self, batch: Sequence[PendingShare], now: dt.datetime, rules: ShareSettings
    ) -> list[Refusal | None]:
        """Store the shares that pass (None) and say why the others do not, in one
        transaction: a share, its recipients and its emails commit together, and the
        request is answered only after the commit."""
        outcomes: list[Refusal | None] = []
        with writing(self.engine) as conn:
            for share in batch:
                refusal = self._check(conn, share, now, rules)
                if refusal is None:
                    self._store(conn, share, now)
                outcomes.append(refusal)
        return outcomes

    def _check(
        self, conn: Any, share: PendingShare, now: dt.datetime, rules: ShareSettings
    ) -> Refusal | None:
        if conn.execute(_VISIBLE, {"id": share.release_id}).first() is None:
            return Refusal("release")
        hour, day = now - HOUR, now - DAY
        if conn.execute(_BY_IP, {"h": share.ip_hash, "since": hour}).scalar_one() >= (
            rules.per_ip_per_hour
        ):
            oldest = conn.execute(_OLDEST_BY_IP, {"h": share.ip_hash, "since": hour}).scalar()
            wait = (oldest + HOUR - now).total_seconds() if oldest else HOUR.total_seconds()
            return Refusal("limit", max(1, int(wait) + 1), "per_ip_per_hour")
        if conn.execute(_ALL, {"since": hour}).scalar_one() >= rules.global_per_hour:
            return Refusal("limit", 600, "global_per_hour")
        if share.sender_hash is not None:
            sent = conn.execute(_BY_SENDER, {"h": share.sender_hash, "since": day}).scalar_one()
            if sent >= rules.per_sender_per_day:
                return Refusal("limit", 3600, "per_sender_per_day")
        for recipient, _ in share.emails:
            got = conn.execute(_BY_RECIPIENT, {"h": recipient, "since": day}).scalar_one()
            if got >= rules.per_recipient_per_day:
                return Refusal("limit", 3600, "per_recipient_per_day")
        # Last, so a request refused for a limit keeps its token for a second try.
        spent = conn.execute(
            _insert_ignore(conn, used_tokens, "nonce"), {"nonce": share.nonce, "used_at": now}
        )
        if spent.rowcount != 1:
            return Refusal("token")
        return None

    def _store(self, conn: Any, share: PendingShare, now: dt.datetime) -> None:
        if share.trapped:
            conn.execute(
                _INSERT_SHARE,
                {
                    "id": share.id,
                    "release_id": share.release_id,
                    "created_at": now,
                    "ip_hash": share.ip_hash,
                    "recipients": len(share.emails),
                    "clicks": 0,
                    "trapped": 1,
                },
            )
            return
        hashes = [h for h, _ in share.emails]
        suppressed = (
            set(conn.execute(_SUPPRESSED, {"hashes": hashes}).scalars()) if hashes else set()
        )
        conn.execute(
            _INSERT_SHARE,
            {
                "id": share.id,
                "release_id": share.release_id,
                "created_at": now,
                "ip_hash": share.ip_hash,
                "sender_name": share.sender_name,
                "sender_email": share.sender_email,
                "sender_hash": share.sender_hash,
                "message": share.message,
                "recipients": len(share.emails),
                "clicks": 0,
                "trapped": 0,
            },
        )
        if hashes:
            conn.execute(
                _INSERT_RECIPIENTS,
                [
                    {
                        "share_id": share.id,
                        "recipient_hash": h,
                        "created_at": now,
                        "suppressed": int(h in suppressed),
                    }
                    for h in hashes
                ],
            )
        # A suppressed address gets nothing, and the sharer is told the same as for any.
        outgoing = [email for h, email in share.emails if h not in suppressed]
        enqueue(conn, [*outgoing, *share.announcements], now)

    # -- the recipient's side ---------------------------------------------------------------

    def suppress(self, address_hash: str, now: dt.datetime) -> None:
        with writing(self.engine) as conn:
            conn.execute(
                _insert_ignore(conn, suppressions, "address_hash"),
                {"address_hash": address_hash, "created_at": now},
            )
            # Nothing more to that address, not even what is already queued.
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
                        status="cancelled", last_error="the recipient unsubscribed", updated_at=now
                    )
                )

    def is_suppressed(self, address_hash: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(_SUPPRESSED, {"hashes": [address_hash]}).first() is not None

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
        """(release id, shares, recipients, click-throughs), the most shared first."""
        query = (
            select(_s.release_id, func.count(), func.sum(_s.recipients), func.sum(_s.clicks))
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
        """Erase what names a person in shares older than `before`, and the addresses and
        texts of email deliveries that ended (dead, cancelled) before it; forget spent
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
            emails = conn.execute(
                update(deliveries)
                .where(
                    d.channel == "email",
                    d.target != "",
                    or_(d.status.in_(("dead", "cancelled")), d.status == "delivered"),
                    d.updated_at < before,
                )
                .values(target="", payload="{}")
            ).rowcount
            conn.execute(delete(used_tokens).where(used_tokens.c.used_at < tokens_before))
        return erased, emails


def _insert_ignore(conn: Any, table: Any, key: str) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
