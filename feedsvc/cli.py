"""feedsvc serve | build | check — the composition root: the only place that wires the parts."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from feedsvc.backup import BackupError, Report, backup, restore
from feedsvc.build import build_site
from feedsvc.clock import Clock, FixedClock, SystemClock
from feedsvc.config import DatabaseSettings, Settings, database_url, load_settings
from feedsvc.errors import ConfigError, ExportError
from feedsvc.ingest import ingest
from feedsvc.model import CHANNELS, STATUSES, Delivery, ReadProblem
from feedsvc.progress import Progress
from feedsvc.reading import read_folder
from feedsvc.store import Changes, Store, schema_version
from feedsvc.store.schema_version import SchemaError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(getattr(args, "config", None))
        return int(args.run(args, settings))
    except ConfigError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ExportError, SchemaError) as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsvc", description="Press releases in, RSS, Atom, JSON Feed and pages out."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _site_commands(commands)
    _database_commands(commands)
    _share_commands(commands)
    _outbox_commands(commands)
    return parser


# What add_subparsers returns (argparse names the class privately).
Commands = argparse._SubParsersAction


def _site_commands(commands: Commands) -> None:
    build = commands.add_parser("build", help="write the site as static files")
    _config_option(build)
    build.add_argument("--out", type=Path, help="output folder (default: build.out)")
    build.add_argument(
        "--now",
        type=_moment,
        help="build as of this moment, e.g. 2026-12-01T09:00+01:00 (previews embargoes)",
    )
    build.add_argument(
        "--jobs", type=int, metavar="N", help="processes to render with (default: one per CPU)"
    )
    build.add_argument(
        "--strict", action="store_true", help="exit 1 when a release file has a problem"
    )
    build.set_defaults(run=cmd_build)

    serve = commands.add_parser("serve", help="run the service: live feeds and pages over HTTP")
    _config_option(serve)
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.set_defaults(run=cmd_serve)

    check = commands.add_parser("check", help="read every release and report problems")
    _config_option(check)
    check.set_defaults(run=cmd_check)

    scheduled = commands.add_parser(
        "scheduled", help="releases under embargo, and when they go live"
    )
    _config_option(scheduled)
    scheduled.set_defaults(run=cmd_scheduled)


def _database_commands(commands: Commands) -> None:
    db = commands.add_parser("db", help="the database schema (Alembic migrations)")
    _config_option(db)
    db_steps = db.add_subparsers(dest="step", metavar="STEP", required=True)
    upgrade = db_steps.add_parser("upgrade", help="bring the schema up to date")
    _config_option(upgrade)
    upgrade.set_defaults(run=cmd_db_upgrade)
    current = db_steps.add_parser("current", help="the schema's revision, and the newest")
    _config_option(current)
    current.set_defaults(run=cmd_db_current)

    saving = commands.add_parser(
        "backup", help="copy the database and the signing key into a new folder, online"
    )
    _config_option(saving)
    saving.add_argument("dir", type=Path, metavar="DIR")
    saving.set_defaults(run=cmd_backup)
    putting_back = commands.add_parser("restore", help="put a backup made by `backup` in place")
    _config_option(putting_back)
    putting_back.add_argument("dir", type=Path, metavar="DIR")
    putting_back.add_argument(
        "--force", action="store_true", help="replace an existing database and key"
    )
    putting_back.set_defaults(run=cmd_restore)


def _share_commands(commands: Commands) -> None:
    share = commands.add_parser("share", help="suggest a release to someone by email")
    _config_option(share)
    share.add_argument("release", metavar="RELEASE_ID")
    share.add_argument("--to", action="append", required=True, metavar="EMAIL")
    share.add_argument("--from-name", help="shown as '<name> via <site title>'")
    share.add_argument("--from-email", help="the Reply-To address")
    share.add_argument("--message", help="a short message, shown as the sender's words")
    share.set_defaults(run=cmd_share)

    stats = commands.add_parser("stats", help="shares and click-throughs per release")
    _config_option(stats)
    stats.add_argument(
        "--readers", action="store_true", help="who reads the feeds: subscribers per reader"
    )
    stats.set_defaults(run=cmd_stats)


def _outbox_commands(commands: Commands) -> None:
    outbox = commands.add_parser(
        "outbox", help="see and steer outbound deliveries (email, webhooks, WebSub)"
    )
    _config_option(outbox)
    outbox.set_defaults(run=cmd_outbox_list, status=None, channel=None, limit=50)
    steps = outbox.add_subparsers(dest="step", metavar="STEP")
    listing = steps.add_parser("list", help="the newest deliveries (the default)")
    _config_option(listing)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--channel", choices=CHANNELS)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=cmd_outbox_list)
    show = steps.add_parser("show", help="one delivery, with its attempts")
    _config_option(show)
    show.add_argument("id", type=int)
    show.set_defaults(run=cmd_outbox_show)
    retry = steps.add_parser("retry", help="make dead, cancelled or waiting deliveries due now")
    _config_option(retry)
    retry.add_argument("ids", type=int, nargs="*", metavar="ID")
    retry.add_argument("--all-dead", action="store_true", help="every dead delivery")
    retry.set_defaults(run=cmd_outbox_retry)
    cancel = steps.add_parser("cancel", help="never send a delivery")
    _config_option(cancel)
    cancel.add_argument("ids", type=int, nargs="+", metavar="ID")
    cancel.set_defaults(run=cmd_outbox_cancel)
    dispatch = steps.add_parser("dispatch", help="send what is due now, once, and report")
    _config_option(dispatch)
    dispatch.set_defaults(run=cmd_outbox_dispatch)
    endpoints = steps.add_parser("endpoints", help="webhook endpoints that fail or are disabled")
    _config_option(endpoints)
    endpoints.set_defaults(run=cmd_outbox_endpoints)
    enable = steps.add_parser("enable", help="send to a disabled webhook endpoint again")
    _config_option(enable)
    enable.add_argument("url")
    enable.set_defaults(run=cmd_outbox_enable)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,  # given before or after a sub-command, either counts
        help="config file (default: ./config.toml if present, else built-in defaults)",
    )


def _settings(path: Path | None) -> Settings:
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    return load_settings(path)


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}+00:00")
    return value


def _shown(settings: Settings, problem: ReadProblem) -> str:
    """A problem with its path as the person typing the command would open it."""
    path = settings.items.dir / problem.path
    rel = os.path.relpath(path)
    return f"{path if rel.startswith('..') else rel}:{problem.line}: {problem.message}"


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    if args.now is None:
        return _build(args, settings, SystemClock())
    # A preview of another moment must not touch the real store: publishing an embargoed
    # release there, even for a preview, would make it public for good. It reads the
    # folder into a throwaway store instead, and announces nothing.
    with tempfile.TemporaryDirectory(prefix="feedsvc-preview-") as scratch:
        preview = dataclasses.replace(
            settings, database=DatabaseSettings(url=f"sqlite:///{scratch}/preview.db")
        )
        return _build(args, preview, FixedClock(args.now))


def _build(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from feedsvc.announce import Announcer

    out = (args.out or settings.build.out).resolve()
    started = time.perf_counter()
    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    if args.now is None:
        store.announce = Announcer(settings)
    try:
        bar = Progress("reading")
        result = ingest(settings, store, clock, progress=bar)
        bar.close()
        for problem in result.problems:
            print(_shown(settings, problem), file=sys.stderr)
        total = store.visible_count()
        waiting = store.scheduled()
    finally:
        store.close()
    bar = Progress("writing pages")
    stats = build_site(settings, clock, out, parts=args.jobs, progress=lambda n: bar(n, total))
    bar.close()
    c = result.changes
    print(
        f"{store_summary(total, c)}; wrote {stats.files:,} files to {_display(out)} "
        f"in {time.perf_counter() - started:.2f} s"
        + (f"; {len(waiting)} scheduled" if waiting else "")
        + (f"; {len(result.problems)} file(s) with problems" if result.problems else "")
    )
    # Files accepted under embargo are in no page yet: say when each goes live (issue 12).
    for release in waiting:
        print(f"scheduled: {release.id} at {_local_time(release.publish_at, settings)}")
    if result.changes.enqueued:
        _announce_build(settings, clock)
    return EXIT_PROBLEMS if args.strict and result.problems else EXIT_OK


def _announce_build(settings: Settings, clock: Clock) -> None:
    """Tell hubs and webhooks about the new export now that it is in place (a hub fetching
    the feed before the swap would find the old one)."""
    from feedsvc.service import dispatcher

    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    try:
        report = dispatcher(settings, store, clock).run(budget=60)
    finally:
        store.close()
    waiting = report.count("retry")
    print(
        f"announced: {report.count('delivered')} delivered"
        + (f", {waiting} to retry (feedsvc outbox dispatch)" if waiting else "")
        + (f", {report.count('dead')} failed (feedsvc outbox)" if report.count("dead") else "")
    )


def store_summary(total: int, c: Changes) -> str:
    counts = (
        (c.added, "added"),
        (c.updated, "updated"),
        (c.withdrawn, "withdrawn"),
        (c.published, "newly published"),
    )
    parts = [f"{len(ids)} {label}" for ids, label in counts if ids]
    head = f"{total:,} release{'s' if total != 1 else ''} published"
    return head + (f" ({', '.join(parts)})" if parts else "")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.logs import setup_logging
    from feedsvc.schedule import Schedule
    from feedsvc.service import Service
    from feedsvc.web.app import FeedApp
    from feedsvc.web.server import run_server

    setup_logging()
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    service = Service(settings)
    schedule = Schedule(service, watch=settings.server.watch)

    def start() -> None:
        service.start()
        schedule.start()
        print(
            f"feedsvc: serving {len(service.cache.tokens):,} releases on http://{host}:{port}/",
            file=sys.stderr,
        )

    def stop() -> None:
        schedule.stop()
        service.close()

    from feedsvc.web.clients import Clients
    from feedsvc.web.share import ShareRoutes

    clients = Clients(settings.server.trusted_proxies)
    routes = ShareRoutes(
        service.desk, service.site.pages, clients, rules=settings.share, site=settings.site
    )
    app = FeedApp(
        service.cache,
        service.metrics,
        base_path=settings.site.base_path,
        health=service.healthy,
        on_startup=start,
        on_shutdown=stop,
        access_log=_access_log() if settings.server.access_log else None,
        dynamic=routes if settings.share.enabled else None,
        clients=clients,
        metrics_allow=settings.server.metrics_allow,
        readers=service.readers,
    )
    run_server(app, host, port)
    return EXIT_OK


def _access_log() -> TextIO:
    """stdout with a buffer of our own: PYTHONUNBUFFERED (set by many containers) would
    otherwise cost a write system call per request. The app flushes it twice a second."""
    raw = io.FileIO(os.dup(sys.stdout.fileno()), "w")
    return io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8")


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    bar = Progress("checking")
    folder = read_folder(settings, progress=bar)
    bar.close()
    problems = list(folder.problems)
    owners: dict[str, str] = {}
    for release, _ in folder.releases:
        other = owners.setdefault(release.id, release.source)
        if other != release.source:
            problems.append(
                ReadProblem(release.source, 1, f"id {release.id!r} is already used by {other}")
            )
    for problem in sorted(problems, key=lambda p: (p.path, p.line)):
        print(_shown(settings, problem))
    now = SystemClock().now()
    embargoed = sorted(
        (r.publish_at, r.id) for r, _ in folder.releases if r.publish_at and r.publish_at > now
    )
    for publish_at, release_id in embargoed:
        print(f"scheduled: {release_id} at {_local_time(publish_at, settings)}")
    if problems:
        return EXIT_PROBLEMS
    n = len(folder.releases)
    print(
        f"{n:,} release{'s' if n != 1 else ''} read, no problems in {_display(settings.items.dir)}"
    )
    return EXIT_OK


def _local_time(moment: dt.datetime, settings: Settings) -> str:
    """A moment as the press office reads it, e.g. 2026-12-07 10:21 +08:00 (Asia/Shanghai)."""
    local = moment.astimezone(settings.site.tz)
    return f"{local:%Y-%m-%d %H:%M} {local.isoformat()[-6:]} ({settings.site.timezone})"


def cmd_scheduled(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    try:
        waiting = store.scheduled()
    finally:
        store.close()
    if not waiting:
        print("nothing scheduled")
        return EXIT_OK
    rows = [(_local_time(r.publish_at, settings), r.id, r.title) for r in waiting]
    when = max(len("goes live"), *(len(w) for w, _, _ in rows))
    width = max(len("release"), *(len(rid) for _, rid, _ in rows))
    print(f"{'goes live':<{when}}  {'release':<{width}}  title")
    for moment, rid, title in rows:
        print(f"{moment:<{when}}  {rid:<{width}}  {title}")
    return EXIT_OK


def _display(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


# -- feedsvc outbox ---------------------------------------------------------------------------


def _outbox_store(settings: Settings) -> Store:
    return Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)


def cmd_outbox_list(args: argparse.Namespace, settings: Settings) -> int:
    store = _outbox_store(settings)
    try:
        counts = store.outbox.counts()
        rows = store.outbox.list(args.status, args.channel, args.limit)
    finally:
        store.close()
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

    store = _outbox_store(settings)
    try:
        d = store.outbox.get(args.id)
        attempts = store.outbox.attempts(args.id) if d else []
    finally:
        store.close()
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
    store = _outbox_store(settings)
    try:
        n = store.outbox.retry(SystemClock().now(), None if args.all_dead else args.ids)
        # Said after the fact: whatever is not pending now was not made due.
        left = [(i, store.outbox.get(i)) for i in dict.fromkeys(args.ids)]
    finally:
        store.close()
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
    store = _outbox_store(settings)
    missed = []
    try:
        for delivery_id in args.ids:
            if not store.outbox.cancel(delivery_id, SystemClock().now()):
                missed.append(delivery_id)
    finally:
        store.close()
    for delivery_id in missed:
        print(f"feedsvc: delivery {delivery_id} is not waiting to be sent", file=sys.stderr)
    print(f"{len(args.ids) - len(missed)} cancelled")
    return EXIT_PROBLEMS if missed else EXIT_OK


def cmd_outbox_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.service import dispatcher

    store = _outbox_store(settings)
    try:
        report = dispatcher(settings, store, SystemClock()).run(budget=300)
    finally:
        store.close()
    counts = ", ".join(f"{report.count(o)} {o}" for o in ("delivered", "retry", "dead", "lost"))
    print(f"{report.claimed} claimed: {counts}")
    return EXIT_OK if not report.count("dead") else EXIT_PROBLEMS


def cmd_outbox_endpoints(args: argparse.Namespace, settings: Settings) -> int:
    store = _outbox_store(settings)
    try:
        endpoints = store.outbox.endpoints()
    finally:
        store.close()
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
    store = _outbox_store(settings)
    try:
        ok = store.outbox.enable_endpoint(args.url)
    finally:
        store.close()
    if not ok:
        print(f"feedsvc: {args.url} is not a known webhook endpoint", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{args.url} enabled; `feedsvc outbox retry ID` sends its cancelled deliveries")
    return EXIT_OK


# -- feedsvc share, feedsvc stats ---------------------------------------------------------------


def cmd_share(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.sharing.desk import ShareDesk, ShareRefused
    from feedsvc.sharing.keys import Signer, load_key
    from feedsvc.sharing.requests import ShareInvalid, parse

    raw = {
        "release": args.release,
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
    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    try:
        signer = Signer(load_key(settings))
        desk = ShareDesk(
            store,
            signer,
            SystemClock(),
            rules=settings.share,
            site=settings.site,
            webhooks=settings.webhooks,
        )
        receipt = desk.share_now(request)
    except ShareRefused as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    finally:
        store.close()
    n = len(request.to)
    print(
        f"share {receipt.id}: accepted for {n} address{'es' if n != 1 else ''} "
        "(sent by the running service, or by `feedsvc outbox dispatch`)"
    )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.sharing.desk import shares_in

    if args.readers:
        return _stats_readers(settings)

    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    try:
        rows = shares_in(store).stats()
    finally:
        store.close()
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
    from feedsvc.store.readers import FRESH_DAYS, FeedReaderStore

    store = Store.open(database_url(settings), upgrade=settings.database.auto_upgrade)
    try:
        feeds = FeedReaderStore(store.engine).audience(SystemClock().now())
    finally:
        store.close()
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


# -- feedsvc db ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _schema_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the database that does not touch its schema (Store.open would)."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url(settings), hide_parameters=True)  # as Store.open
    try:
        yield engine
    finally:
        engine.dispose()


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    with _schema_engine(settings) as engine:
        done = schema_version.upgrade(engine)
    print(f"database schema {done}")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    with _schema_engine(settings) as engine:
        revision = schema_version.current(engine)
    newest = schema_version.head()
    state = "up to date" if revision == newest else "behind: run `feedsvc db upgrade`"
    print(f"{revision or 'no revision'} (newest {newest}; {state})")
    return EXIT_OK if revision == newest else EXIT_PROBLEMS


# -- feedsvc backup, feedsvc restore -------------------------------------------------------------


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    return _tell(lambda: backup(settings, args.dir, SystemClock()))


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    return _tell(lambda: restore(settings, args.dir, force=args.force))


def _tell(run: Callable[[], Report]) -> int:
    try:
        report = run()
    except BackupError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    print("\n".join(report.lines))
    for warning in report.warnings:
        print(f"feedsvc: {warning}", file=sys.stderr)
    return EXIT_OK
