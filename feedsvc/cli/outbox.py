"""feedsvc outbox: see and steer outbound deliveries (email, webhooks, WebSub)."""

from __future__ import annotations

import argparse
import sys

from feedsvc.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from feedsvc.clock import SystemClock
from feedsvc.config import Settings
from feedsvc.model import STATUSES, Delivery
from feedsvc.store import open_store


def cmd_outbox_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        counts = store.outbox.counts()
        rows = store.outbox.list(args.status, args.channel, args.limit)
    by_status = {s: sum(n for (_, st), n in counts.items() if st == s) for s in STATUSES}
    print(", ".join(f"{n:,} {s}" for s, n in by_status.items() if n) or "the outbox is empty")
    if rows:
        print(
            f"{'id':>7}  {'status':<9}  {'channel':<7}  {'attempts':>8}  "
            f"{'next/delivered':<20}  {'target':<50}  last error".rstrip()
        )
    for d in rows:
        print(_delivery_line(d))
    return EXIT_OK


def _delivery_line(d: Delivery) -> str:
    when = d.delivered_at if d.status == "delivered" else d.next_attempt_at
    error = f"  {_clip(d.last_error, 80)}" if d.last_error and d.status != "delivered" else ""
    target = f"{_clip(d.target, 50):<50}" if error else _clip(d.target, 50)
    return (
        f"{d.id:>7}  {d.status:<9}  {d.channel:<7}  {d.attempts:>8}  "
        f"{when:%Y-%m-%d %H:%M:%S}Z  {target}{error}"
    )


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_outbox_show(args: argparse.Namespace, settings: Settings) -> int:
    import json

    with open_store(settings) as store:
        d = store.outbox.get(args.id)
        attempts = store.outbox.attempts(args.id) if d else []
    if d is None:
        print(f"feedsvc: no delivery {args.id}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"delivery {d.id}: {d.status}, {d.channel} to {d.target}")
    print(f"  key          {d.key}")
    print(f"  message id   {d.stable_id}")
    if d.subject:
        print(f"  about        {d.subject}")
    print(f"  created      {d.created_at.isoformat(timespec='seconds')}")
    if d.status == "delivered" and d.delivered_at:
        print(f"  delivered    {d.delivered_at.isoformat(timespec='seconds')}")
    elif d.status in ("pending", "sending"):
        print(f"  next attempt {d.next_attempt_at.isoformat(timespec='seconds')}")
    if d.last_error:
        print(f"  last error   {d.last_error}")
    print(f"  attempts     {_attempts_count(d, len(attempts))}")
    # Numbered across rounds, in the order they were made (a retry by hand starts the
    # delivery's own count, which the retry policy goes by, again at 1).
    for number, a in enumerate(attempts, start=1):
        took = (a.finished_at - a.started_at).total_seconds()
        error = f": {a.error}" if a.error else ""
        print(
            f"    #{number} {a.finished_at.isoformat(timespec='seconds')} {a.outcome}"
            f" ({took:.1f} s){error}"
        )
    print("  payload")
    for line in json.dumps(d.payload, indent=2, ensure_ascii=False).splitlines():
        print("    " + line)
    return EXIT_OK


def _attempts_count(d: Delivery, recorded: int) -> str:
    """How many attempts were made in all, and in this round when a retry by hand started
    a new one (`d.attempts` counts the round, an attempt under way included)."""
    under_way = d.status == "sending"
    this_round = d.attempts - int(under_way)
    text = f"{recorded}" + (", and one under way" if under_way else "")
    if this_round != recorded:
        text += f" ({this_round} since the last retry by hand)"
    return text


def cmd_outbox_retry(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == bool(args.all_dead):
        print("feedsvc: give delivery ids, or --all-dead", file=sys.stderr)
        return EXIT_USAGE
    with open_store(settings) as store:
        n = store.outbox.retry(SystemClock().now(), None if args.all_dead else args.ids)
        # Said after the fact: whatever is not pending now was not made due.
        left = [(i, store.outbox.get(i)) for i in dict.fromkeys(args.ids)]
    missed = [(i, d) for i, d in left if d is None or d.status != "pending"]
    for delivery_id, d in missed:
        if d is None:
            print(f"feedsvc: no delivery {delivery_id}", file=sys.stderr)
        else:
            print(
                f"feedsvc: delivery {delivery_id} is {d.status}: nothing to retry", file=sys.stderr
            )
    print(f"{n} deliver{'y' if n == 1 else 'ies'} due again now")
    return EXIT_PROBLEMS if missed or not (n or args.all_dead) else EXIT_OK


def cmd_outbox_cancel(args: argparse.Namespace, settings: Settings) -> int:
    missed = []
    with open_store(settings) as store:
        for delivery_id in args.ids:
            if not store.outbox.cancel(delivery_id, SystemClock().now()):
                missed.append(delivery_id)
    for delivery_id in missed:
        print(f"feedsvc: delivery {delivery_id} is not waiting to be sent", file=sys.stderr)
    print(f"{len(args.ids) - len(missed)} cancelled")
    return EXIT_PROBLEMS if missed else EXIT_OK


def cmd_outbox_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.service import dispatcher

    with open_store(settings) as store:
        report = dispatcher(settings, store, SystemClock()).run(budget=300)
    counts = ", ".join(f"{report.count(o)} {o}" for o in ("delivered", "retry", "dead", "lost"))
    print(f"{report.claimed} claimed: {counts}")
    return EXIT_OK if not report.count("dead") else EXIT_PROBLEMS


def cmd_outbox_endpoints(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        endpoints = store.outbox.endpoints()
    configured = {w.url for w in settings.webhooks}
    for url in sorted(configured | {e.url for e in endpoints}):
        state = next((e for e in endpoints if e.url == url), None)
        if state is not None and state.disabled_at is not None:
            line = f"disabled since {state.disabled_at:%Y-%m-%d %H:%M}Z: {state.disabled_reason}"
        elif state is not None and state.failing_since is not None:
            line = f"failing since {state.failing_since:%Y-%m-%d %H:%M}Z"
        else:
            line = "ok"
        gone = "" if url in configured else " (no longer in config.toml)"
        print(f"{url}  {line}{gone}")
    return EXIT_OK


def cmd_outbox_enable(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        ok = store.outbox.enable_endpoint(args.url)
    if not ok:
        print(f"feedsvc: {args.url} is not a known webhook endpoint", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{args.url} enabled; `feedsvc outbox retry ID` sends its cancelled deliveries")
    return EXIT_OK
