"""The dispatcher: claims due deliveries, hands each to its channel, records the outcome.

It owns the loop; the outbox (store) owns the SQL; channels only send. Every outcome is
recorded right after its send, so a crash can repeat at most the messages in flight.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from feedsvc.channels import Cancelled, Channel, DeliveryFailed, EndpointGone, TransientFailure
from feedsvc.clock import Clock
from feedsvc.model import Delivery
from feedsvc.outbox.policy import RetryPolicy
from feedsvc.privacy import masked
from feedsvc.store.outbox import Claim, Outbox

log = logging.getLogger("feedsvc.outbox")

SENT, NOT_TRIED = "sent", "not tried"

# How many messages of a channel are sent at once. Webhooks and pings are independent HTTP
# calls; email and alert lanes each keep an SMTP connection of their own
# (mail.smtp_connections).
LANES = {"email": 2, "alert": 2, "webhook": 4, "websub": 4}
# The channels that send email: mail.max_per_second bounds them together (issue 16).
MAIL_CHANNELS = frozenset({"email", "alert"})


class Throttle:
    """At most `per_second` sends a second across every lane (issue 16: relays cap
    senders). Each send takes the next free slot, a 1/per_second apart; a lane waits for
    its slot, or until `stop` is set. `per_second` 0: no cap."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event | None) -> bool:
        """False when stopping before the slot came."""
        if not self.interval:
            return True
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - time.monotonic()
        if delay <= 0:
            return True
        if stop is None:
            time.sleep(delay)
            return True
        return not stop.wait(delay)


@dataclass
class Report:
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, outcome)
    claimed: int = 0

    def count(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.outcomes.items() if o == outcome)


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        batch: int = 50,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        disable_after: dt.timedelta = dt.timedelta(days=5),
        lanes: Mapping[str, int] = LANES,
        max_per_second: float = 0.0,
    ) -> None:
        self.outbox = outbox
        self.channels = channels
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self.lease = lease
        self.disable_after = disable_after
        self.lanes = lanes
        self.workers = max(sum(lanes.values()), 1)
        self.throttle = Throttle(max_per_second)  # mail.max_per_second
        self.totals: Counter[tuple[str, str]] = Counter()  # since start, for /metrics
        self._failing: set[str] | None = None  # webhook endpoints known to be failing
        self._lock = threading.Lock()

    def run(self, budget: float = 30.0, stop: threading.Event | None = None) -> Report:
        """Send what is due, batch after batch, until nothing is due, `budget` seconds have
        passed, or `stop` is set."""
        report = Report()
        deadline = time.monotonic() + budget
        if self._failing is None:
            self._failing = {e.url for e in self.outbox.endpoints() if e.failing_since}
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="deliver") as pool:
                while not (stop is not None and stop.is_set()):
                    claim = self.outbox.claim_due(
                        self.clock.now(), self.batch, self.lease, self.channels.keys()
                    )
                    if not claim.deliveries:
                        break
                    report.claimed += len(claim.deliveries)
                    self._send(claim, pool, report, stop)
                    if time.monotonic() >= deadline:
                        break
        finally:
            for channel in self.channels.values():
                try:
                    channel.close()
                except Exception:
                    log.exception("closing the %s channel failed", channel.name)
        return report

    def _send(
        self,
        claim: Claim,
        pool: ThreadPoolExecutor,
        report: Report,
        stop: threading.Event | None,
    ) -> None:
        queues: dict[str, collections.deque[Delivery]] = {}
        for delivery in claim.deliveries:
            queues.setdefault(delivery.channel, collections.deque()).append(delivery)
        for name, queue in queues.items():
            self._prepare(name, list(queue))

        def lane(queue: collections.deque[Delivery]) -> None:
            # Each lane sends one message after another (an SMTP lane over its own kept-open
            # connection) and records each outcome right after its send, so a crash
            # repeats at most one message a lane: the one in flight.
            while True:
                try:
                    delivery = queue.popleft()
                except IndexError:
                    return
                self._settle(self._attempt(delivery, claim, stop), delivery, claim, report)

        futures = [
            pool.submit(lane, queue)
            for channel, queue in queues.items()
            for _ in range(min(self.lanes.get(channel, 1), len(queue)))
        ]
        for future in futures:
            future.result()

    def _prepare(self, name: str, deliveries: list[Delivery]) -> None:
        """Let a channel read at once what a claim's sends will need (the alert channel:
        its subscribers and releases, issue 16), instead of a query a send."""
        prepare = getattr(self.channels.get(name), "prepare", None)
        if prepare is None:
            return
        try:
            prepare(deliveries)
        except Exception:  # each send then reads what it needs itself
            log.exception("the %s channel could not prepare %d deliveries", name, len(deliveries))

    def _attempt(
        self, delivery: Delivery, claim: Claim, stop: threading.Event | None
    ) -> DeliveryFailed | str:
        """Send one delivery: SENT, NOT_TRIED (stopping), or how it failed."""
        if stop is not None and stop.is_set():
            return NOT_TRIED
        if delivery.channel in MAIL_CHANNELS and not self.throttle.wait(stop):
            return NOT_TRIED
        channel = self.channels.get(delivery.channel)
        try:
            if channel is None:
                raise TransientFailure(f"no {delivery.channel} channel is configured")
            channel.send(delivery)
        except DeliveryFailed as e:
            return e
        except Exception as e:  # a defect in a channel must not stop the others
            log.exception(
                "delivery %d: %s channel failed unexpectedly", delivery.id, delivery.channel
            )
            return TransientFailure(f"unexpected error: {e!r}")
        return SENT

    def _settle(
        self,
        result: DeliveryFailed | str,
        delivery: Delivery,
        claim: Claim,
        report: Report,
    ) -> None:
        """Record how an attempt ended."""
        if result == NOT_TRIED:
            # Stopping: give the claim back so a restart need not wait for the lease.
            self.outbox.release([delivery], claim, self.clock.now())
            return
        if isinstance(result, DeliveryFailed):
            outcome = self._failed(delivery, claim, result)
        else:
            outcome = self._delivered(delivery, claim)
        with self._lock:
            report.outcomes[delivery.channel, outcome] += 1
            self.totals[delivery.channel, outcome] += 1

    def _delivered(self, delivery: Delivery, claim: Claim) -> str:
        if not self.outbox.record_delivered(delivery, claim, self.clock.now()):
            return self._lost(delivery)
        if delivery.channel == "webhook" and self._failing and delivery.target in self._failing:
            self.outbox.endpoint_succeeded(delivery.target)
            self._failing.discard(delivery.target)
        return "delivered"

    def _failed(self, delivery: Delivery, claim: Claim, error: DeliveryFailed) -> str:
        now = self.clock.now()
        message = str(error) or type(error).__name__
        if isinstance(error, Cancelled):
            # Nothing to send after all (issue 16): not a failure of anyone's.
            if not self.outbox.record_failure(delivery, claim, now, message, None, cancelled=True):
                return self._lost(delivery)
            return "cancelled"
        retry_at = self.policy.decide(delivery.attempts, error, now)
        disabled = None
        if delivery.channel == "webhook":
            disabled = self._endpoint_failed(delivery.target, error, now)
            if disabled is not None:
                retry_at = None
                message = f"{message} (endpoint disabled: {disabled})"
        if not self.outbox.record_failure(delivery, claim, now, message, retry_at):
            return self._lost(delivery)
        if retry_at is None:
            log.warning(
                "delivery %d (%s to %s) is dead after %d attempt(s): %s",
                delivery.id,
                delivery.channel,
                masked(delivery.target),
                delivery.attempts,
                masked(message),
            )
            return "dead"
        log.info(
            "delivery %d (%s to %s) failed, next attempt at %s: %s",
            delivery.id,
            delivery.channel,
            masked(delivery.target),
            retry_at.isoformat(timespec="seconds"),
            masked(message),
        )
        return "retry"

    def _endpoint_failed(self, url: str, error: DeliveryFailed, now: dt.datetime) -> str | None:
        """Note a failing webhook endpoint; disable it when it said so (410) or has failed for
        too long. Returns why it was disabled, or None."""
        if isinstance(error, EndpointGone):
            reason = f"it answered 410 Gone at {now.isoformat(timespec='seconds')}"
        else:
            since = self.outbox.endpoint_failed(url, now)
            if self._failing is not None:
                self._failing.add(url)
            if now - since < self.disable_after:
                return None
            reason = f"failing since {since.isoformat(timespec='seconds')}"
        cancelled = self.outbox.disable_endpoint(url, now, reason)
        log.error(
            "webhook endpoint %s disabled: %s; %d waiting deliveries cancelled "
            "(feedsvc outbox enable %s, then feedsvc outbox retry, to resume)",
            url,
            reason,
            cancelled,
            url,
        )
        return reason

    def _lost(self, delivery: Delivery) -> str:
        # Our lease ran out and another dispatcher took the delivery over: its outcome counts.
        log.warning("delivery %d: lease lost before the outcome was recorded", delivery.id)
        return "lost"
