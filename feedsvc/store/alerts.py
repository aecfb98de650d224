"""The SQL of email alerts sent (issue 16): subscribe requests within the form's limits
(with their confirmation email queued in the same transaction), the fan-out of a release
to its subscribers in the transaction that publishes it, digests, and what a digest lists.

Alert emails are composed when they are sent (channels/alert.py), not when queued: a
delivery of channel "alert" names its subscriber (target: the id, never the address) and
what to tell them (payload), so a fan-out to 100,000 subscribers is one INSERT ... SELECT,
an unsubscribed or erased subscriber is never mailed, and a release withdrawn meanwhile
is not sent.

Alert deliveries' payloads:

    {"kind": "confirm"}                      the double opt-in email
    {"kind": "already"}                      asked again while confirmed: the manage link
    {"kind": "release", "release": KEY, "note": str | None}   a release, or an update
    {"kind": "digest", "frequency": "daily"|"weekly", "since": ISO, "until": ISO}
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from feedsvc.config import AlertSettings
from feedsvc.model import FOLLOWED_TAG, Changes, Outgoing, StoredRelease, followed_tag
from feedsvc.store.connector import SUBSCRIBERS_LOCK, writing
from feedsvc.store.enqueue import enqueue, insert_ignoring_keys, payload_text
from feedsvc.store.facts import fact, set_fact
from feedsvc.store.release_reads import in_chunks, stored_release
from feedsvc.store.schema import (
    alert_items,
    deliveries,
    release_tags,
    releases,
    subscribers,
    subscription_requests,
    used_tokens,
)
from feedsvc.store.subscribers import request_in

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
ALERT = "alert"  # the deliveries' channel

_s, _ai, _r, _d = subscribers.c, alert_items.c, releases.c, deliveries.c
_rt = release_tags.c
_ANYONE = select(_s.id).where(_s.status == "confirmed").limit(1)


@dataclass(frozen=True)
class DigestItem:
    """A release a digest lists: the release, and the change note of its latest update
    within the digest's period (None: it was published then)."""

    release: StoredRelease
    note: str | None


def _follows(dialect: str, slug: Any, tags: Any) -> Any:
    """SQL for: a subscriber follows the section `slug` (a value, or a column of the
    query) or one of the release's tags. They follow every section, or the JSON list of
    theirs holds '"<slug>"' or (issue 17) '"tag:<tag slug>"' (store/subscribers._sections
    writes it unescaped; a slug holds no quote or backslash). `tags`: the release's tag
    slugs (a list), or the column of its key (a release_tags lookup per subscriber).
    A plain substring test: LIKE would read a '_' in a slug as a wildcard."""
    find = func.strpos if dialect == "postgresql" else func.instr
    quoted = f'"{slug}"' if isinstance(slug, str) else literal('"') + slug + literal('"')
    if isinstance(tags, list):
        by_tag = [find(_s.sections, f'"{FOLLOWED_TAG}{t}"') > 0 for t in tags]
    else:
        entry = literal(f'"{FOLLOWED_TAG}') + _rt.slug + literal('"')
        # Correlated to the subscriber of the query two levels out (the digest's EXISTS).
        tagged = select(_rt.slug).where(_rt.release_key == tags, find(_s.sections, entry) > 0)
        by_tag = [exists(tagged.correlate_except(release_tags))]
    return or_(_s.sections.is_(None), find(_s.sections, quoted) > 0, *by_tag)


_COLUMNS = (
    "channel",
    "target",
    "subject",
    "payload",
    "key",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "updated_at",
)


def _deliveries_from(conn: Connection, rows: Any) -> int:
    """INSERT INTO deliveries SELECT `rows` (their columns in _COLUMNS' order), a key
    already stored left out: how many were inserted."""
    statement = insert_ignoring_keys(conn).from_select(list(_COLUMNS), rows)
    if conn.dialect.name == "postgresql":
        # psycopg gives no rowcount for INSERT ... SELECT ... ON CONFLICT: count what the
        # statement returned, in the database (a fan-out returns 100,000 rows).
        inserted = statement.returning(deliveries.c.id).cte("inserted")
        return int(conn.execute(select(func.count()).select_from(inserted)).scalar_one())
    return conn.execute(statement).rowcount


def _row(key: Any, subject: str, payload: Any, now: dt.datetime) -> list[Any]:
    return [
        literal(ALERT),
        _s.id,
        literal(subject),
        payload,
        key,
        literal("pending"),
        literal(0),
        literal(now, deliveries.c.created_at.type),
        literal(now, deliveries.c.next_attempt_at.type),
        literal(now, deliveries.c.updated_at.type),
    ]


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the subscribe form -----------------------------------------------------------------

    def request(
        self,
        *,
        address_hash: str,
        address: str,
        frequency: str,
        sections: Sequence[str] | None,
        language: str | None,
        network: str,
        ip_hash: str,
        nonce: str,
        now: dt.datetime,
        rules: AlertSettings,
        form_version: str,
        trapped: bool = False,
    ) -> str | None:
        """A subscribe request from the form or the API, in one transaction: its token
        spent, the limits counted, the subscription pending (store/subscribers.request_in)
        and its confirmation email queued. None when taken; else why not: "token" (spent
        already), "client" (alerts.per_ip_per_hour) or "global" (alerts.global_per_hour).

        Whatever the address, a request taken is answered alike (issue 16: no way to learn
        who subscribes): a confirmed address is sent its manage link instead ("already"),
        a suspended one nothing, and an address sent alerts.per_address_per_day emails
        today nothing more. `trapped` (the honeypot): counted, nothing stored or sent."""
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(used_tokens).values(nonce=nonce, used_at=now))
            except IntegrityError:
                return "token"
            r = subscription_requests.c
            hour_ago = now - HOUR
            by_client = conn.execute(
                select(func.count()).where(r.ip_hash == ip_hash, r.at > hour_ago)
            ).scalar_one()
            if by_client >= rules.per_ip_per_hour:
                return "client"
            overall = conn.execute(select(func.count()).where(r.at > hour_ago)).scalar_one()
            if overall >= rules.global_per_hour:
                return "global"
            mailed = False
            if not trapped:
                mailed = self._subscribe(
                    conn,
                    address_hash,
                    address,
                    frequency,
                    sections,
                    language,
                    network,
                    now,
                    rules,
                    form_version,
                )
            conn.execute(
                insert(subscription_requests).values(
                    address_hash=address_hash, ip_hash=ip_hash, at=now, mailed=int(mailed)
                )
            )
        return None

    def _subscribe(
        self,
        conn: Connection,
        address_hash: str,
        address: str,
        frequency: str,
        sections: Sequence[str] | None,
        language: str | None,
        network: str,
        now: dt.datetime,
        rules: AlertSettings,
        form_version: str,
    ) -> bool:
        """The subscription pending and its email queued; whether an email was queued."""
        r = subscription_requests.c
        subscriber_id, status = request_in(
            conn, address_hash, address, frequency, sections, language, now, network, form_version
        )
        kind = {"pending": "confirm", "confirmed": "already"}.get(status)
        if kind is None:
            return False
        sent_today = conn.execute(
            select(func.coalesce(func.sum(r.mailed), 0)).where(
                r.address_hash == address_hash, r.at > now - DAY
            )
        ).scalar_one()
        if sent_today >= rules.per_address_per_day:
            return False
        email = Outgoing(
            ALERT,
            subscriber_id,
            {"kind": kind},
            key=f"alerts.{kind} {subscriber_id} {now.isoformat()}",
            subject=subscriber_id,
        )
        return enqueue(conn, [email], now) == 1

    def forget_requests(self, before: dt.datetime) -> int:
        """Forget subscribe requests older than `before` (the limits look back a day)."""
        with writing(self.engine) as conn:
            return conn.execute(
                subscription_requests.delete().where(subscription_requests.c.at < before)
            ).rowcount

    # -- immediate alerts, in the transaction that publishes -------------------------------

    def fan_out(
        self, conn: Connection, changes: Changes, now: dt.datetime, max_age: dt.timedelta
    ) -> int:
        """Queue an alert for every confirmed immediate subscriber of each release that
        became public in `changes` (not old news: published within `max_age`), and of each
        edit that carries a new change note; cancel the alerts not yet sent of releases
        withdrawn. Called in the change's transaction: the release and its alerts commit
        together, once (the deliveries' keys). How many alerts were queued."""
        if changes.withdrawn:
            self._cancel(conn, changes.withdrawn, now)
        wanted = [(kind, key) for kind, key in changes.events if kind != "release.withdrawn"]
        if not wanted or conn.execute(_ANYONE).first() is None:
            # Nobody to tell, now or in a later digest (a digest starts from its
            # subscriber's confirmation): a publication without subscribers pays one
            # indexed look (it cost ~1 ms a release otherwise).
            return 0
        rows = {
            row.id: row
            for chunk in in_chunks(sorted({key for _, key in wanted}))
            for row in conn.execute(
                select(
                    _r.id,
                    _r.scope,
                    _r.section_slug,
                    _r.published,
                    _r.change_note,
                    _r.seq,
                    _r.withdrawn_at,
                ).where(_r.id.in_(chunk))
            )
        }
        queued = 0
        for kind, key in wanted:
            row = rows.get(key)
            if row is None or row.seq is None or row.withdrawn_at is not None:
                continue
            if kind == "release.published":
                if row.published < now - max_age:
                    continue  # an archive being imported: news to nobody
                queued += self._item(conn, row, "published", None, now)
            elif row.change_note:
                queued += self._item(conn, row, "updated", row.change_note, now)
        return queued

    def _item(
        self, conn: Connection, row: Any, kind: str, note: str | None, now: dt.datetime
    ) -> int:
        """Record what subscribers are told (alert_items, for the digests) and queue it
        for the immediate ones, unless it was told already (the same note again)."""
        told = select(_ai.id).where(_ai.release_key == row.id, _ai.kind == kind)
        if note is not None:
            told = told.where(_ai.note == note)
        if conn.execute(told.limit(1)).first() is not None:
            return 0
        conn.execute(
            insert(alert_items).values(
                release_key=row.id,
                scope=row.scope,
                section_slug=row.section_slug,
                kind=kind,
                note=note,
                at=now,
            )
        )
        stamp = kind if note is None else "note:" + hashlib.sha256(note.encode()).hexdigest()[:16]
        tags = sorted(conn.scalars(select(_rt.slug).where(_rt.release_key == row.id)))
        payload = payload_text({"kind": "release", "release": row.id, "note": note})
        key = literal(f"alert {row.id} {stamp} ") + _s.id
        chosen = select(*_row(key, row.id, literal(payload), now)).where(
            _s.status == "confirmed",
            _s.frequency == "immediate",
            func.coalesce(_s.language, "") == row.scope,
            _follows(conn.dialect.name, row.section_slug, tags),
        )
        # In the keys' order: the unique index on `key` is then filled from one end
        # instead of at 100,000 random places (about half the fan-out's time).
        chosen = chosen.order_by(_s.id)
        return _deliveries_from(conn, chosen)

    def _cancel(self, conn: Connection, keys: Sequence[str], now: dt.datetime) -> None:
        """A release withdrawn before its alerts went out: they are not sent (the channel
        also checks each one it sends, for those claimed meanwhile)."""
        for chunk in in_chunks(sorted(keys)):
            conn.execute(
                update(deliveries)
                .where(
                    _d.channel == ALERT,
                    _d.status == "pending",
                    _d.subject.in_(chunk),
                )
                .values(status="cancelled", updated_at=now, last_error="the release was withdrawn")
            )

    # -- digests -----------------------------------------------------------------------------

    def enqueue_digests(
        self, frequency: str, period: str, until: dt.datetime, now: dt.datetime
    ) -> int:
        """One digest email for every confirmed `frequency` subscriber something matched
        for since their last digest (up to `until`), in one statement; `period` (a day or
        an ISO week) keys them, so a period is never sent twice. Every such subscriber's
        last digest becomes `until`. How many digests were queued."""
        since = func.coalesce(_s.last_digest_at, _s.confirmed_at, _s.created_at)
        matched = exists(
            select(_ai.id)
            .select_from(alert_items.join(releases, _r.id == _ai.release_key))
            .where(
                _ai.scope == func.coalesce(_s.language, ""),
                _ai.at > since,
                _ai.at <= until,
                _r.withdrawn_at.is_(None),
                _follows(self.engine.dialect.name, _ai.section_slug, _ai.release_key),
            )
        )
        head = payload_text({"kind": "digest", "frequency": frequency, "until": until.isoformat()})
        # The subscriber's own "since", written into the JSON by the database ("YYYY-MM-DD
        # HH:MM:SS[.ffffff]", UTC: channels/alert.py reads it back).
        payload = literal(head[:-1] + ',"since":"') + cast(since, String) + literal('"}')
        key = literal(f"digest {frequency} {period} ") + _s.id
        chosen = (
            select(*_row(key, "digest", payload, now))
            .where(_s.status == "confirmed", _s.frequency == frequency, matched)
            .order_by(_s.id)
        )
        with writing(self.engine, SUBSCRIBERS_LOCK) as conn:
            queued = _deliveries_from(conn, chosen)
            conn.execute(
                update(subscribers)
                .where(
                    _s.status == "confirmed",
                    _s.frequency == frequency,
                    or_(_s.last_digest_at.is_(None), _s.last_digest_at < until),
                )
                .values(last_digest_at=until)
            )
            set_fact(conn, f"alerts.digest.{frequency}", period)
        return queued

    def digest_period(self, frequency: str) -> str | None:
        """The last period whose digests were queued (a day or an ISO week), or None."""
        with self.engine.connect() as conn:
            return fact(conn, f"alerts.digest.{frequency}")

    def digest_items(
        self,
        scope: str,
        sections: Sequence[str] | None,
        since: dt.datetime,
        until: dt.datetime,
        limit: int = 200,
    ) -> list[DigestItem]:
        """What a digest lists: the releases of language `scope` ('' the site's own) in
        `sections` (None: all) told of in (since, until], still public, oldest first; an
        update's latest note."""
        query = (
            select(releases, _ai.note, _ai.at.label("told_at"))
            .select_from(alert_items.join(releases, _r.id == _ai.release_key))
            .where(
                _ai.scope == scope,
                _ai.at > since,
                _ai.at <= until,
                _r.withdrawn_at.is_(None),
                _r.seq.is_not(None),
            )
            .order_by(_ai.at, _ai.id)
        )
        if sections is not None:
            tags = sorted(t for s in sections if (t := followed_tag(s)) is not None)
            tagged = select(_rt.slug).where(_rt.release_key == _r.id, _rt.slug.in_(tags))
            query = query.where(or_(_r.section_slug.in_(sorted(sections)), exists(tagged)))
        items: dict[str, DigestItem] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                # Listed once, where it was last told of, with its latest note.
                earlier = items.pop(row.id, None)
                note = row.note or (earlier.note if earlier is not None else None)
                items[row.id] = DigestItem(stored_release(row), note)
        return list(items.values())[-limit:]


__all__ = ["ALERT", "AlertStore", "DigestItem"]
