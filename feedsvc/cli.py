"""feedsvc serve | build | check — the composition root: the only place that wires the parts."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from feedsvc.build import build_site
from feedsvc.clock import Clock, FixedClock, SystemClock
from feedsvc.config import Settings, database_url, load_settings
from feedsvc.errors import ConfigError, ExportError
from feedsvc.ingest import ingest
from feedsvc.model import ReadProblem
from feedsvc.progress import Progress
from feedsvc.reading import read_folder
from feedsvc.store import Changes, Store

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args.config)
        return int(args.run(args, settings))
    except ConfigError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ExportError as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_PROBLEMS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsvc", description="Press releases in, RSS, Atom, JSON Feed and pages out."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
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
    clock: Clock = FixedClock(args.now) if args.now else SystemClock()
    out = (args.out or settings.build.out).resolve()
    started = time.perf_counter()
    store = Store.open(database_url(settings))
    try:
        bar = Progress("reading")
        result = ingest(settings, store, clock, progress=bar)
        bar.close()
        for problem in result.problems:
            print(_shown(settings, problem), file=sys.stderr)
        total = store.visible_count()
    finally:
        store.close()
    bar = Progress("writing pages")
    stats = build_site(settings, clock, out, parts=args.jobs, progress=lambda n: bar(n, total))
    bar.close()
    c = result.changes
    print(
        f"{store_summary(total, c)}; wrote {stats.files:,} files to {_display(out)} "
        f"in {time.perf_counter() - started:.2f} s"
        + (f"; {len(result.problems)} file(s) with problems" if result.problems else "")
    )
    return EXIT_PROBLEMS if args.strict and result.problems else EXIT_OK


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

    app = FeedApp(
        service.cache,
        service.metrics,
        base_path=settings.site.base_path,
        health=service.healthy,
        on_startup=start,
        on_shutdown=stop,
        access_log=_access_log() if settings.server.access_log else None,
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
    if problems:
        return EXIT_PROBLEMS
    n = len(folder.releases)
    print(
        f"{n:,} release{'s' if n != 1 else ''} read, no problems in {_display(settings.items.dir)}"
    )
    return EXIT_OK


def _display(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
