"""When digests are due (issue 16): daily at alerts.daily_at, weekly on alerts.weekly_day
at that time, in site.timezone; a period is a local day ("2026-12-06") or an ISO week
("2026-W49"). The store keys each period's digests, so a period is never sent twice; a
period missed while the service was down is the latest due one at the next look, so it is
caught up at start.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from feedsvc.config import AlertSettings
from feedsvc.store import Store

log = logging.getLogger("feedsvc.alerts")

DIGEST_FREQUENCIES = ("daily", "weekly")


@dataclass(frozen=True)
class DigestRun:
    frequency: str
    period: str
    until: dt.datetime
    queued: int  # digest emails queued
    already: bool  # this period's digests had been queued before: nothing was done


def _at(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """`time` on `day` in `tz` (a wall time a DST change skips is read as zoneinfo does:
    fold 0), as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=tz)


def due_period(
    frequency: str, now: dt.datetime, rules: AlertSettings, tz: dt.tzinfo
) -> tuple[str, dt.datetime]:
    """The latest period whose digest time has come by `now`, and that time (UTC)."""
    local = now.astimezone(tz)
    day = local.date()
    if frequency == "daily":
        if _at(day, rules.daily_time, tz) > local:
            day -= dt.timedelta(days=1)
        return day.isoformat(), _at(day, rules.daily_time, tz).astimezone(dt.UTC)
    if frequency != "weekly":
        raise ValueError(f"frequency must be daily or weekly, not {frequency!r}")
    day -= dt.timedelta(days=(day.weekday() - rules.weekday) % 7)
    if _at(day, rules.daily_time, tz) > local:
        day -= dt.timedelta(days=7)
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", _at(day, rules.daily_time, tz).astimezone(dt.UTC)


def run_digest(
    store: Store, frequency: str, now: dt.datetime, rules: AlertSettings, tz: dt.tzinfo | str
) -> DigestRun:
    """Queue the digests of the latest due period, unless they were queued already (this
    period or a later one: ISO days and weeks sort as text)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    period, until = due_period(frequency, now, rules, zone)
    done = store.alerts.digest_period(frequency)
    if done is not None and done >= period:
        return DigestRun(frequency, period, until, 0, already=True)
    queued = store.alerts.enqueue_digests(frequency, period, until, now)
    log.info("%s digests for %s: %d queued", frequency, period, queued)
    return DigestRun(frequency, period, until, queued, already=False)
