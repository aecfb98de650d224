"""The alert channel (issue 16): a delivery names a subscriber and what to tell them
(store/alerts.py); the email is composed only now, by `AlertLetters`, and sent through an
email channel of its own (its own SMTP connections: alerts never hold up shares).

Composing at send time is what keeps the promises: a subscriber who left or was erased
is never mailed, a release withdrawn (or hidden again) before its turn is not sent, and a
digest that finds nothing sends nothing; each is `Cancelled`. A refusal of the recipient
by the receiving server is the subscriber's hard bounce (alerts.max_hard_bounces).

`prepare` (the dispatcher calls it once a claim) reads the claim's subscribers and
releases in a few queries, so a fan-out's send makes no query of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from feedsvc.alerts.letters import AlertLetters
from feedsvc.channels import Cancelled, Channel, PermanentFailure
from feedsvc.channels.email import PayloadRefused
from feedsvc.channels.smtp import SenderRefused
from feedsvc.clock import Clock
from feedsvc.config import AlertSettings, Settings
from feedsvc.model import Delivery, StoredRelease, follows
from feedsvc.sharing.keys import Signer

if TYPE_CHECKING:  # channels do not import the store (ARCHITECTURE): it is handed in
    from feedsvc.store import Store
    from feedsvc.store.subscribers import Subscriber

log = logging.getLogger("feedsvc.alerts")

_MISSING = object()


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """What a claim's sends need, read at once."""

    subscribers: dict[str, Subscriber | None]  # None: asked for, not stored
    releases: dict[str, StoredRelease | None]


class AlertChannel:
    name = "alert"

    def __init__(
        self,
        store: Store,
        letters: AlertLetters,
        email: Channel,
        clock: Clock,
        alerts: AlertSettings,
    ) -> None:
        self._store = store
        self._letters = letters
        self._email = email
        self._clock = clock
        self._alerts = alerts
        self._prepared = _Prepared({}, {})

    def prepare(self, deliveries: list[Delivery]) -> None:
        # Never the last claim's: should this fail, each send reads for itself.
        self._prepared = _Prepared({}, {})
        ids = sorted({d.target for d in deliveries})
        keys = sorted(
            {
                d.payload["release"]
                for d in deliveries
                if d.payload.get("kind") == "release" and isinstance(d.payload.get("release"), str)
            }
        )
        found = self._store.subscribers.get_many(ids)
        subscribers = {i: found.get(i) for i in ids}
        # A fan-out's claim names one release (or a few): one query each.
        releases = {key: self._store.releases.get(key) for key in keys}
        self._prepared = _Prepared(subscribers, releases)

    def send(self, delivery: Delivery) -> None:
        payload = self._compose(delivery)
        try:
            # Channel "email" and the delivery's own key: its Message-ID stays the same
            # on every attempt.
            self._email.send(dataclasses.replace(delivery, channel="email", payload=payload))
        except (PayloadRefused, SenderRefused):
            raise  # about the message or our envelope, not the subscriber's address
        except PermanentFailure:
            alerts = self._alerts
            status = self._store.subscribers.record_bounce(
                delivery.target,
                hard=True,
                max_hard=alerts.max_hard_bounces,
                max_soft=alerts.max_soft_bounces,
                now=self._clock.now(),
            )
            log.info("alert %s refused: subscriber %s now %s", delivery.id, delivery.target, status)
            raise

    def close(self) -> None:
        self._prepared = _Prepared({}, {})
        self._email.close()

    # -- what to send ----------------------------------------------------------------------

    def _compose(self, delivery: Delivery) -> dict[str, Any]:
        payload = delivery.payload
        kind = payload.get("kind")
        subscriber = self._subscriber(delivery.target)
        wanted = ("pending",) if kind == "confirm" else ("confirmed",)
        if subscriber is None or subscriber.status not in wanted or not subscriber.address:
            status = "gone" if subscriber is None else subscriber.status
            raise Cancelled(f"the subscriber is {status}")
        if kind == "confirm":
            # Dated when it was asked for, not when sent: a retried email says the same,
            # and its link lapses with the request (alerts.confirm_days).
            return self._letters.confirm(subscriber, delivery.created_at)
        if kind == "already":
            return self._letters.already(subscriber)
        if kind == "release":
            return self._release(subscriber, payload)
        if kind == "digest":
            return self._digest(subscriber, payload)
        raise PayloadRefused(f"alert payload: unknown kind {kind!r}")

    def _release(self, subscriber: Subscriber, payload: Any) -> dict[str, Any]:
        stored = self._release_of(str(payload.get("release")))
        if stored is None or stored.withdrawn_at is not None or stored.seq is None:
            raise Cancelled("the release is withdrawn or not public")
        # Changed their mind since the fan-out: digests now, or not this section.
        if subscriber.frequency != "immediate":
            raise Cancelled(f"the subscriber now takes {subscriber.frequency} digests")
        release = stored.release
        if not follows(subscriber.sections, release.section_slug, release.tags):
            raise Cancelled("the subscriber no longer follows this section or tag")
        note = payload.get("note")
        return self._letters.release(subscriber, stored, note if isinstance(note, str) else None)

    def _digest(self, subscriber: Subscriber, payload: Any) -> dict[str, Any]:
        try:
            frequency = payload["frequency"]
            since, until = _moment(payload["since"]), _moment(payload["until"])
        except (KeyError, TypeError, ValueError) as error:
            raise PayloadRefused(f"alert payload: digest without a good period: {error}") from None
        scope = subscriber.language or ""
        items = self._store.alerts.digest_items(scope, subscriber.sections, since, until)
        if not items:
            raise Cancelled("nothing matched in this digest's period")
        return self._letters.digest(subscriber, items, frequency, since)

    def _subscriber(self, subscriber_id: str) -> Subscriber | None:
        found = self._prepared.subscribers.get(subscriber_id, _MISSING)
        if found is _MISSING:
            return self._store.subscribers.get(subscriber_id)
        return found  # type: ignore[return-value]

    def _release_of(self, key: str) -> StoredRelease | None:
        found = self._prepared.releases.get(key, _MISSING)
        if found is _MISSING:
            return self._store.releases.get(key)
        return found  # type: ignore[return-value]


def _moment(text: Any) -> dt.datetime:
    """A digest's bound: ISO with an offset, or as the database wrote it (naive UTC)."""
    moment = dt.datetime.fromisoformat(str(text))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def alert_channel(
    settings: Settings, store: Store, signer: Signer, email_channel: Channel, clock: Clock
) -> AlertChannel:
    letters = AlertLetters(settings.site, settings.languages, signer, settings.alerts)
    return AlertChannel(store, letters, email_channel, clock, settings.alerts)


__all__ = ["AlertChannel", "alert_channel"]
