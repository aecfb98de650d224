"""feedsvc stats --alerts: subscribers by frequency and status, alert emails sent,
cancelled and dead, bounces, and each list (language and sections) on its own (issue 16)."""

from __future__ import annotations

import json
from collections import Counter

from feedsvc.cli.common import EXIT_OK
from feedsvc.config import Settings
from feedsvc.store import open_store
from feedsvc.store.alert_admin import AlertStats, stats
from feedsvc.store.subscribers import FREQUENCIES, STATUSES

OUTCOMES = ("pending", "sending", "delivered", "cancelled", "dead")
KINDS = ("release", "digest", "confirm", "already")


def print_alert_stats(settings: Settings) -> int:
    with open_store(settings) as store:
        found = stats(store.engine)
    if not found.subscribers and not found.deliveries:
        print("no subscribers yet")
        return EXIT_OK
    for line in [*subscriber_table(found), "", *email_table(found), "", *list_table(found)]:
        print(line)
    return EXIT_OK


def subscriber_table(found: AlertStats) -> list[str]:
    lines = [f"{'subscribers':<12}" + "".join(f"  {s:>12}" for s in STATUSES) + f"  {'all':>8}"]
    for frequency in FREQUENCIES:
        n = [found.subscribers.get((status, frequency), 0) for status in STATUSES]
        lines.append(f"{frequency:<12}" + "".join(f"  {k:>12,}" for k in n) + f"  {sum(n):>8,}")
    totals = [sum(v for (s, _), v in found.subscribers.items() if s == st) for st in STATUSES]
    lines.append(f"{'all':<12}" + "".join(f"  {k:>12,}" for k in totals) + f"  {sum(totals):>8,}")
    lines.append(f"bounces: {found.hard_bounces:,} hard, {found.soft_bounces:,} soft")
    return lines


def email_table(found: AlertStats) -> list[str]:
    """Alert emails in the outbox by kind and status (delivered = sent; the outbox purge
    forgets old ones, so these are the emails it still holds)."""
    kinds = [k for k in KINDS if any(kk == k for kk, _ in found.deliveries)]
    kinds += sorted({k for k, _ in found.deliveries} - set(kinds))
    lines = [f"{'emails':<12}" + "".join(f"  {o:>10}" for o in OUTCOMES)]
    for kind in kinds:
        n = [found.deliveries.get((kind, outcome), 0) for outcome in OUTCOMES]
        lines.append(f"{kind:<12}" + "".join(f"  {k:>10,}" for k in n))
    return lines


def list_table(found: AlertStats) -> list[str]:
    """Per list: the subscribers following one language and one set of sections."""
    lines = [f"{'language':<9}  {'sections':<30}  {'confirmed':>9}  {'left':>6}  {'sent':>8}"]
    for (language, sections), statuses in sorted(found.lists.items(), key=_list_order):
        shown = "(all)" if sections is None else " ".join(json.loads(sections))
        shown = shown if len(shown) <= 30 else shown[:29] + "…"
        sent = found.sent_by_list.get((language, sections), 0)
        lines.append(
            f"{language or '(site)':<9}  {shown:<30}  {statuses['confirmed']:>9,}  "
            f"{statuses['unsubscribed']:>6,}  {sent:>8,}"
        )
    return lines


def _list_order(item: tuple[tuple[str, str | None], Counter[str]]) -> tuple[str, str]:
    (language, sections), _ = item
    return language, sections or ""
