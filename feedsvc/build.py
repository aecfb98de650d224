"""`feedsvc build`: render the whole site into a static export, in parallel processes.

Each process opens the store itself and renders a disjoint part of the site (the same
documents a single process would, split by archive page and by release), writing into
one staging folder that is swapped in atomically when every part has succeeded. The
releases' files (issue 14) go in first, their variants made in parallel into the media
cache that `serve` shares.

Issue 18 item 2: a build into an existing export starts from the export before it (the
spare, publishing/spare.py) and keeps there, or hard-links from the current export, every
group of documents whose version key did not move (publishing/reuse.py); it renders the
rest, when those are few in this process alone.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from feedsvc.clock import Clock, FixedClock
from feedsvc.config import Settings
from feedsvc.languages import Languages
from feedsvc.media import MediaCache
from feedsvc.publishing import manifest
from feedsvc.publishing.export import (
    ExportStats,
    media_files,
    place_media,
    staged,
    write_documents,
)
from feedsvc.publishing.groups import grouped_documents
from feedsvc.publishing.manifest import manifest_path
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.pages import keep_compiled_templates
from feedsvc.publishing.reuse import Plan, plan_build
from feedsvc.publishing.site import Document
from feedsvc.publishing.sites import Sites
from feedsvc.publishing.spare import Listing, Spare
from feedsvc.publishing.trash import Trash
from feedsvc.store import open_store
from feedsvc.store.build_reads import PublishedRow, with_files
from feedsvc.store.releases import Releases
from feedsvc.workers import start_worker

_done: Any = None  # shared counter of release pages written, set in each worker


def build_site(
    settings: Settings,
    clock: Clock,
    out: Path,
    parts: int | None = None,  # processes; default one per CPU
    progress: Callable[[int], None] | None = None,
    ahead: Listing | None = None,  # spare.list_ahead's, started (and closed) by the caller
) -> ExportStats:
    workers = max(1, parts or os.cpu_count() or 1)
    clock = FixedClock(clock.now())  # one moment for the keys and every render (tombstones)
    out = out.resolve()
    where = manifest_path(settings, out)
    trash = Trash(None if where is None else where.with_suffix(".old"))
    trash.empty_meanwhile()
    spare = None if where is None else Spare(where, out, trash.put, ahead)
    if where is not None:  # an absolute cache folder (manifest_path)
        keep_compiled_templates(settings.server.cache_dir / "templates")
    pending: Path | None = None
    try:
        with staged(out, discard=trash.put if spare is None else spare.keep) as staging:
            held = None if spare is None else spare.take(staging)
            listing = None if spare is None else spare.listed  # else made by plan_build
            media = _media_files(settings, workers)
            plan = plan_build(settings, clock, out, staging, where, held, media, listing)
            total = place_media(media, staging, plan.placed)
            rendered: dict[str, list[str]] = {}
            total += _render(settings, clock, staging, workers, plan, rendered, progress)
            pending = _pending_manifest(where, staging, plan, rendered)
    except BaseException:
        if pending is not None:
            pending.unlink(missing_ok=True)
        raise
    finally:
        trash.wait()
    if pending is not None and spare is not None:
        spare.commit(pending)
    return total


def _render(
    settings: Settings,
    clock: Clock,
    staging: Path,
    workers: int,
    plan: Plan,
    rendered: dict[str, list[str]],
    progress: Callable[[int], None] | None,
) -> ExportStats:
    """Render every group the plan does not reuse: in this process when they are few (a
    pool's start costs more than they do), else in `workers` processes."""
    linked = ExportStats(plan.linked, 0, plan.linked)
    if workers == 1 or plan.few:
        stats, mine = _render_part(
            settings, clock, staging, 0, 1, plan.skip, plan.releases, progress, plan.rows
        )
        rendered.update(mine)
        return linked + stats
    # More parts than processes: part 0 carries the index, sections, feeds and sitemap,
    # the others the release and archive pages; submitted first, the longest (part 0)
    # starts first, and the smaller the rest, the less a process waits at the end for
    # the other's last part (each part costs ~50 ms to open: issue 18).
    parts = 4 * workers
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    counter = context.Value("i", 0)
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(counter, os.getpid()),
    ) as pool:
        futures = [
            pool.submit(_render_part, settings, clock, staging, part, parts, plan.skip, None)
            for part in range(parts)
        ]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
            if progress is not None:
                progress(counter.value)
            for future in finished:
                future.result()  # re-raise a worker's error here: the build fails whole
    total = linked
    for future in futures:
        stats, mine = future.result()
        rendered.update(mine)
        total += stats
    return total


def _pending_manifest(
    where: Path | None, staging: Path, plan: Plan, rendered: dict[str, list[str]]
) -> Path | None:
    """The new export's manifest, written aside until the swap. Reuse is a saving, not a
    duty: a manifest that cannot be written leaves the next build a cold one."""
    if where is None:
        return None
    entries = {**plan.reused, **manifest.record(staging, rendered, plan.keys)}
    try:
        return manifest.write_pending(where, staging, entries)
    except OSError:
        return None


def release_media(settings: Settings) -> ReleaseMedia:
    """Releases' files over the media cache `serve` shares (issue 14)."""
    return ReleaseMedia(settings.items.dir, MediaCache(settings.items.media_cache_dir))


def site_of(
    settings: Settings, releases: Releases, clock: Clock, media: ReleaseMedia | None = None
) -> Sites:
    """The site, in every language, every composition root makes: the settings sections it
    reads (issue 13)."""
    s = settings
    return Sites(
        releases,
        clock,
        site=s.site,
        feeds=s.feeds,
        pages=s.pages,
        websub=s.websub,
        share=s.share,
        media=media,
        languages=Languages(s.site, s.languages),
        alerts=s.alerts,
        contacts=s.contacts,  # issue 17: "Media contact" on pages and in feeds
    )


def _media_files(settings: Settings, workers: int) -> list[tuple[str, Path]]:
    with open_store(settings, upgrade=False) as store:
        return media_files(with_files(store.releases.engine), release_media(settings), workers)


def _init_worker(counter: Any, parent: int) -> None:
    global _done
    start_worker(parent)  # a killed build leaves no renderer writing on
    _done = counter


def _count(_n: int) -> None:
    with _done.get_lock():
        _done.value += 1


def _render_part(
    settings: Settings,
    clock: Clock,
    root: Path,
    part: int,
    parts: int,
    skip: Collection[str],
    releases: Collection[str] | None,
    progress: Callable[[int], None] | None = None,
    rows: list[PublishedRow] | None = None,
) -> tuple[ExportStats, dict[str, list[str]]]:
    """One part's documents, bar the groups in `skip`; and the files of each keyed group
    it rendered, for the manifest. `rows`: the plan's, in the build's own process."""
    rendered: dict[str, list[str]] = {}
    with open_store(settings, upgrade=False) as store:  # the parent upgraded it
        sites = site_of(settings, store.releases, clock, release_media(settings))
        counted = progress if _done is None else _count

        def documents() -> Iterator[Document]:
            found = grouped_documents(sites, skip, part, parts, counted, releases, rows)
            for group, doc in found:
                if group is not None:
                    rendered.setdefault(group, []).append(doc.file)
                yield doc

        return write_documents(documents(), root), rendered
