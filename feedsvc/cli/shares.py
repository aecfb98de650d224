"""feedsvc share | stats: suggest a release by hand, and what was shared and read."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from feedsvc.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from feedsvc.clock import SystemClock
from feedsvc.config import Settings
from feedsvc.store import open_store


def cmd_share(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.languages import Languages
    from feedsvc.sharing.desk import ShareDesk, ShareRefused
    from feedsvc.sharing.keys import Signer, load_key
    from feedsvc.sharing.requests import ShareInvalid, parse

    language = None
    if args.language is not None:
        found = Languages(settings.site, settings.languages).get(args.language)
        if found is None:
            print(
                f"feedsvc: --language: {args.language!r} is not a language of the site",
                file=sys.stderr,
            )
            return EXIT_USAGE
        language = found.scope
    raw = {
        "release": args.release,
        "language": language,
        "to": args.to,
        "from_name": args.from_name,
        "from_email": args.from_email,
        "message": args.message,
        "token": "operator",
    }
    rules = dataclasses.replace(settings.share, max_recipients=max(len(args.to), 1))
    try:
        request = parse({k: v for k, v in raw.items() if v is not None}, rules)
    except ShareInvalid as e:
        for name, problem in e.fields.items():
            print(f"feedsvc: --{name.replace('_', '-')}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    with open_store(settings) as store:
        signer = Signer(load_key(settings))
        desk = ShareDesk(
            store,
            signer,
            SystemClock(),
            rules=settings.share,
            site=settings.site,
            webhooks=settings.webhooks,
            languages=settings.languages,
        )
        try:
            receipt = desk.share_now(request)
        except ShareRefused as e:
            print(f"feedsvc: {e}", file=sys.stderr)
            return EXIT_PROBLEMS
    n = len(request.to)
    print(
        f"share {receipt.id}: accepted for {n} address{'es' if n != 1 else ''} "
        "(sent by the running service, or by `feedsvc outbox dispatch`)"
    )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    if args.readers:
        return _stats_readers(settings)
    if args.alerts:
        from feedsvc.cli.alert_stats import print_alert_stats

        return print_alert_stats(settings)

    with open_store(settings) as store:
        rows = store.shares.stats()
    if not rows:
        print("no shares yet")
        return EXIT_OK
    width = max(len("release"), *(len(rid) for rid, *_ in rows))
    print(f"{'release':<{width}}  {'shares':>6}  {'emails':>6}  {'clicks':>6}")
    for rid, shares, recipients, clicks in rows:
        print(f"{rid:<{width}}  {shares:>6}  {recipients:>6}  {clicks:>6}")
    total = [sum(row[i] for row in rows) for i in (1, 2, 3)]
    print(f"{'all':<{width}}  {total[0]:>6}  {total[1]:>6}  {total[2]:>6}")
    return EXIT_OK


def _stats_readers(settings: Settings) -> int:
    """Per feed: subscribers per reader as the fetchers last reported them, and the other
    clients (distinct network and User-Agent) today and in the last 7 days (issue 12)."""
    from feedsvc.store.readers import FRESH_DAYS

    with open_store(settings) as store:
        feeds = store.readers.audience(SystemClock().now())
    if not feeds:
        print(
            "no feed fetches recorded yet (the service stores them every "
            f"{settings.server.readers_flush_seconds} s)"
        )
        return EXIT_OK
    width = max(len("feed"), *(len(f.feed) for f in feeds))
    names = max(len("reader"), *(len(r.reader) for f in feeds for r in f.readers))
    print(
        f"{'feed':<{width}}  {'reader':<{names}}  {'subscribers':>11}  {'fetchers':>8}  "
        f"{'clients today':>13}  {f'clients {FRESH_DAYS} days':>14}  last report"
    )
    for f in feeds:
        for r in f.readers:
            print(
                f"{f.feed:<{width}}  {r.reader:<{names}}  {r.subscribers:>11,}  "
                f"{r.fetchers:>8}  {'':>13}  {'':>14}  {r.last_seen:%Y-%m-%d %H:%M}Z"
            )
        print(
            f"{f.feed:<{width}}  {'all':<{names}}  {f.subscribers:>11,}  "
            f"{sum(r.fetchers for r in f.readers):>8}  {f.clients_today:>13,}  "
            f"{f.clients_week:>14,}"
        )
    return EXIT_OK
