"""feedsvc build | serve | check | scheduled: the site, from the folder to readers."""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from feedsvc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    display,
    local_time,
    shown,
)
from feedsvc.clock import Clock, FixedClock, SystemClock
from feedsvc.config import DatabaseSettings, Settings
from feedsvc.model import Changes
from feedsvc.progress import Progress

if TYPE_CHECKING:  # serve imports these when it starts: `feedsvc check` stays quick
    from feedsvc.publishing.spare import Listing
    from feedsvc.service import Service
    from feedsvc.web.app import Dynamic
    from feedsvc.web.asgi import Answer, Receive, Scope, Send
    from feedsvc.web.clients import Clients


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
    out = (args.out or settings.build.out).resolve()
    started = time.perf_counter()
    # The spare export listed from now on (issue 18 item 2), before the imports below.
    from feedsvc.publishing.manifest import manifest_path
    from feedsvc.publishing.spare import list_ahead

    ahead = list_ahead(manifest_path(settings, out), out)
    try:
        return _build_listed(args, settings, clock, out, started, ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _build_listed(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    out: Path,
    started: float,
    ahead: Listing | None,
) -> int:
    from feedsvc.workers import collections_paused

    with collections_paused():  # a batch of long-lived tables; not the announcements after
        from feedsvc.announce import announcing
        from feedsvc.build import build_site
        from feedsvc.ingest import ingest
        from feedsvc.store import open_store

        with open_store(settings) as store:
            if args.now is None:
                announcing(store, settings)
            bar = Progress("reading")
            result = ingest(settings, store, clock, progress=bar)
            bar.close()
            for problem in result.problems:
                print(shown(settings, problem), file=sys.stderr)
            total = store.releases.visible_count()
            waiting = store.releases.scheduled()
        bar = Progress("writing pages")
        stats = build_site(
            settings, clock, out, parts=args.jobs, progress=lambda n: bar(n, total), ahead=ahead
        )
        bar.close()
    c = result.changes
    print(
        f"{store_summary(total, c)}; wrote {stats.files:,} files to {display(out)} "
        # Issue 18: how many came unchanged from earlier exports (kept in the spare or linked).
        + (f"({stats.reused:,} unchanged) " if stats.reused else "")
        + f"in {time.perf_counter() - started:.2f} s"
        + (f"; {len(waiting)} scheduled" if waiting else "")
        + (f"; {len(result.problems)} file(s) with problems" if result.problems else "")
    )
    # Files accepted under embargo are in no page yet: say when each goes live (issue 12).
    for release in waiting:
        print(f"scheduled: {release.id} at {local_time(release.publish_at, settings)}")
    if result.changes.enqueued:
        _announce_build(settings, clock)
    return EXIT_PROBLEMS if args.strict and result.problems else EXIT_OK


def _announce_build(settings: Settings, clock: Clock) -> None:
    """Tell hubs and webhooks about the new export now that it is in place (a hub fetching
    the feed before the swap would find the old one)."""
    from feedsvc.service import channels, dispatcher
    from feedsvc.store import open_store

    with open_store(settings) as store:
        # Hubs, webhooks and share emails; not the email alerts of a fan-out (issue 16):
        # thousands of them would hold the build for minutes. `feedsvc outbox dispatch`
        # (or a running `serve`) sends those.
        report = dispatcher(settings, store, clock, channels(settings, clock)).run(budget=60)
        alerts = store.outbox.counts().get(("alert", "pending"), 0)
    waiting = report.count("retry")
    print(
        f"announced: {report.count('delivered')} delivered"
        + (f", {waiting} to retry (feedsvc outbox dispatch)" if waiting else "")
        + (f", {report.count('dead')} failed (feedsvc outbox)" if report.count("dead") else "")
        + (f"; {alerts:,} email alerts queued (feedsvc outbox dispatch)" if alerts else "")
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

    clients = Clients(settings.server.trusted_proxies)
    dynamic = _dynamic_routes(settings, service, clients)
    app = FeedApp(
        service.cache,
        service.metrics,
        base_path=settings.site.base_path,
        health=service.healthy,
        on_startup=start,
        on_shutdown=stop,
        access_log=_access_log() if settings.server.access_log else None,
        dynamic=dynamic,
        clients=clients,
        metrics_allow=settings.server.metrics_allow,
        readers=service.readers,
        files=service.files,
    )
    run_server(app, host, port)
    return EXIT_OK


def _dynamic_routes(settings: Settings, service: Service, clients: Clients) -> Dynamic | None:
    """The routes answered by code: email alerts' (issue 16) when alerts.enabled, then the
    share routes when share.enabled (they answer any other api/ path 404), as one callable."""
    from feedsvc.web.alerts import AlertRoutes
    from feedsvc.web.share import ShareRoutes

    chain: list[Dynamic] = [_preview_routes(settings, service)]  # issue 17 item 6
    chain.append(_search_routes(settings, service))  # issue 17 item 1: always on
    if settings.alerts.enabled:
        pages = service.site.pages
        chain.append(
            AlertRoutes(
                service.alerts_desk,
                pages,
                clients,
                rules=settings.alerts,
                site=settings.site,
                languages=settings.languages,
                openapi=not settings.share.enabled,
            )
        )
    if settings.share.enabled:
        chain.append(
            ShareRoutes(
                service.desk,
                service.site.pages,
                clients,
                rules=settings.share,
                site=settings.site,
                languages=settings.languages,
            )
        )
    if not chain:
        return None
    if len(chain) == 1:
        return chain[0]

    async def dynamic(
        scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        for routes in chain:
            answer = await routes(scope, receive, send, method, rel)
            if answer is not None:
                return answer
        return None

    return dynamic


def _preview_routes(settings: Settings, service: Service) -> Dynamic:
    """Embargoed previews (issue 17 item 6): releases/<id>/preview?t=, and the release's
    files with the same token."""
    from feedsvc.previews.desk import PreviewDesk
    from feedsvc.web.preview import PreviewRoutes

    desk = PreviewDesk(
        service.store, service.signer, service.clock, settings.site, settings.languages
    )
    return PreviewRoutes(
        desk,
        service.site.pages,
        service.cache,
        service.files,
        site=settings.site,
        languages=settings.languages,
    )


def _search_routes(settings: Settings, service: Service) -> Dynamic:
    """Search (issue 17 item 1): always on; the static export's search box asks it."""
    from feedsvc.web.search import SearchRoutes

    pages = service.site.pages
    return SearchRoutes(service.store, pages, site=settings.site, languages=settings.languages)


def _access_log() -> TextIO:
    """stdout with a buffer of our own: PYTHONUNBUFFERED (set by many containers) would
    otherwise cost a write system call per request. The app flushes it twice a second."""
    raw = io.FileIO(os.dup(sys.stdout.fileno()), "w")
    return io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8")


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: a build never runs these checks (issue 18 item 2, its process start).
    from feedsvc.reading import read_folder
    from feedsvc.reading.checks import duplicate_keys, script_warnings, slug_clashes

    bar = Progress("checking")
    folder = read_folder(settings, progress=bar)
    bar.close()
    releases = [release for release, _ in folder.releases]
    problems = [*folder.problems, *duplicate_keys(releases), *slug_clashes(releases)]
    warnings = script_warnings(releases)  # issue 15: said, but not a reason to fail
    for problem in sorted([*problems, *warnings], key=lambda p: (p.path, p.line)):
        print(shown(settings, problem))
    now = SystemClock().now()
    embargoed = sorted(
        (r.publish_at, r.id) for r, _ in folder.releases if r.publish_at and r.publish_at > now
    )
    for publish_at, release_id in embargoed:
        print(f"scheduled: {release_id} at {local_time(publish_at, settings)}")
    if problems:
        return EXIT_PROBLEMS
    n = len(folder.releases)
    said = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})" if warnings else ""
    print(
        f"{n:,} release{'s' if n != 1 else ''} read, no problems in "
        f"{display(settings.items.dir)}{said}"
    )
    return EXIT_OK


def cmd_scheduled(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.store import open_store

    with open_store(settings) as store:
        waiting = store.releases.scheduled()
    if not waiting:
        print("nothing scheduled")
        return EXIT_OK
    rows = [(local_time(r.publish_at, settings), r.id, r.title) for r in waiting]
    when = max(len("goes live"), *(len(w) for w, _, _ in rows))
    width = max(len("release"), *(len(rid) for _, rid, _ in rows))
    print(f"{'goes live':<{when}}  {'release':<{width}}  title")
    for moment, rid, title in rows:
        print(f"{moment:<{when}}  {rid:<{width}}  {title}")
    return EXIT_OK
