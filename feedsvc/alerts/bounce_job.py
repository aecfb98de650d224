"""The bounce job (issue 16): delivery status notifications (RFC 3464) and complaint
reports (RFC 5965) that the relay delivers to alerts.bounce_maildir, turned into facts
about subscribers. The VERP return path an alert went out with names its subscriber,
with a keyed MAC (alerts/bounces.py): a bounce that forges or guesses one is ignored, so
nobody can suspend or unsubscribe someone else by mailing us reports.

Each message is read once: scan_maildir marks it seen (cur/, flag S) after it was
handled, and leaves it unseen if recording failed (the store down), for the next run."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

from feedsvc.alerts.bounces import Report, scan_maildir, subscriber_of
from feedsvc.config import AlertSettings
from feedsvc.store import Store

log = logging.getLogger("feedsvc.alerts")

# What a run counts: hard, soft, complaint (recorded), suspended (subscribers the run
# suspended), ignored (not a report, not ours, forged, or a subscriber no longer stored).
OUTCOMES = ("hard", "soft", "complaint", "suspended", "ignored")


def read_bounces(
    maildir: Path,
    store: Store,
    key: bytes,
    domain: str,
    rules: AlertSettings,
    now: dt.datetime,
) -> dict[str, int]:
    """Read every unseen message of `maildir` and record what it says; the counts of
    OUTCOMES for /metrics and the log."""
    counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})

    def handle(report: Report | None, name: str) -> None:
        outcome = _record(report, store, key, domain, rules, now)
        counts[outcome] += 1
        if outcome == "suspended":
            counts["hard" if report is not None and report.kind == "hard" else "soft"] += 1
        log.debug("bounce maildir %s: %s", name, outcome)

    if maildir.is_dir():
        scan_maildir(maildir, handle)
    if any(counts[o] for o in OUTCOMES):
        log.info("bounces read: %s", ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]))
    return dict(counts)


def _record(
    report: Report | None,
    store: Store,
    key: bytes,
    domain: str,
    rules: AlertSettings,
    now: dt.datetime,
) -> str:
    """One message's outcome (one of OUTCOMES); it raises only if the store does."""
    if report is None:
        return "ignored"  # an auto-reply, spam, a "delivered" notice: nothing to record
    subscriber_id = subscriber_of(report.envelope_to, domain, key)
    if subscriber_id is None:
        return "ignored"  # not one of our return paths, or a forged MAC
    if report.kind == "complaint":
        # RFC 5965: the person marked our email as spam; they are sent nothing more.
        if store.subscribers.get(subscriber_id) is None:
            return "ignored"
        store.subscribers.complaint(subscriber_id, now)
        return "complaint"
    before = store.subscribers.get(subscriber_id)
    if before is None:
        return "ignored"  # erased meanwhile: nothing left to count against
    hard = report.kind == "hard"
    status = store.subscribers.record_bounce(
        subscriber_id, hard, rules.max_hard_bounces, rules.max_soft_bounces, now
    )
    if status == "suspended" and before.status != "suspended":
        return "suspended"
    return report.kind
