"""`feedsvc build`: render the whole site into a static export, in parallel processes.

Each process opens the store itself and renders a disjoint part of the site (the same
documents a single process would, split by archive page and by release), writing into
one staging folder that is swapped in atomically when every part has succeeded. The
releases' files (issue 14) go in first, their variants made in parallel into the media
cache that `serve` shares.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from feedsvc.clock import Clock
from feedsvc.config import Settings
from feedsvc.languages import Languages
from feedsvc.media import MediaCache
from feedsvc.publishing.export import ExportStats, staged, write_documents, write_media
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.publishing.sites import Sites
from feedsvc.store import open_store
from feedsvc.store.releases import Releases
from feedsvc.workers import die_with_parent

_done: Any = None  # shared counter of release pages written, set in each worker


def build_site(
    settings: Settings,
    clock: Clock,
    out: Path,
    parts: int | None = None,  # processes; default one per CPU
    progress: Callable[[int], None] | None = None,
) -> ExportStats:
    workers = max(1, parts or os.cpu_count() or 1)
    with staged(out) as staging:
        files = _export_media(settings, staging, workers)
        if workers == 1:
            return files + _render_part(settings, clock, staging, 0, 1, progress)
        # More parts than processes: part 0 also carries the index, sections and sitemap,
        # and smaller parts let the pool even out the load.
        parts = 3 * workers
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        counter = context.Value("i", 0)
        with ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(counter, os.getpid()),
        ) as pool:
            futures = [
                pool.submit(_render_part, settings, clock, staging, part, parts)
                for part in range(parts)
            ]
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                if progress is not None:
                    progress(counter.value)
                for future in finished:
                    future.result()  # re-raise a worker's error here: the build fails whole
        total = files
        for future in futures:
            total += future.result()
        return total


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


def _export_media(settings: Settings, root: Path, workers: int) -> ExportStats:
    media = release_media(settings)
    with open_store(settings, upgrade=False) as store:
        return write_media(store.releases.iter_visible(), media, root, workers)


def _init_worker(counter: Any, parent: int) -> None:
    global _done
    die_with_parent(parent)  # a killed build leaves no renderer writing on
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
    progress: Callable[[int], None] | None = None,
) -> ExportStats:
    with open_store(settings, upgrade=False) as store:  # the parent upgraded it
        site = site_of(settings, store.releases, clock, release_media(settings))
        counted = progress if _done is None else _count
        return write_documents(site.documents(part, parts, progress=counted), root)
