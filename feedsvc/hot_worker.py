"""The renderer process (issue 18 item 5): a change's hot documents rendered away from the
event loop's GIL.

Under load the feeds, browser pages and home page a change re-renders held the serving
process's GIL for tens of milliseconds a change, and every request waited its turn (the
soak's p99 doubled). One long-lived process, spawned at the first change (not at start: a
first import's memory stays what it was), opens its own store and `Sites` from the same
settings, renders the main feeds ahead (publishing/hot.py `warm_up`: its first change then
costs what the next ones do) and renders `HotJob`s; the `Ready`s come back pickled, bytes
and headers made, and the cache swaps them in. It runs at a lower CPU priority: on a busy
machine the readers come first, the change a moment later.

While it starts (a second or more of imports), and when it has died (killed, out of
memory), a change is rendered here, as before: never later than it was, never lost; and
another renderer is started.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from feedsvc.build import release_media, site_of
from feedsvc.clock import FixedClock
from feedsvc.config import Settings
from feedsvc.publishing.entry_elements import KEPT, remember_entries
from feedsvc.publishing.hot import HotJob, HotRender, render_hot, warm_up
from feedsvc.publishing.ready import Ready
from feedsvc.publishing.sites import Sites
from feedsvc.store import open_store
from feedsvc.workers import die_with_parent

log = logging.getLogger("feedsvc")

NICE = 5  # the renderer's CPU priority below the server's (os.nice increment)
_SPAWN = multiprocessing.get_context("spawn")  # no copy of the server's threads or sockets


class HotRenderer:
    """A HotRender (the cache's `renderer`) that renders in a process of its own."""

    def __init__(self, settings: Settings, here: HotRender) -> None:
        self.settings = settings
        self.here = here  # while the renderer starts, and when it fails: this process
        self._pool: ProcessPoolExecutor | None = None
        self._up: Future[None] | None = None  # the renderer has opened its store and site
        self._lock = threading.Lock()

    def __call__(self, job: HotJob) -> list[Ready]:
        with self._lock:  # one job at a time, in change order
            self._start()
            if self._up is None or not self._up.done() or self._up.exception() is not None:
                # Starting (its imports take a second or more): the change is not kept
                # waiting; a renderer that could not start is tried again next time.
                if self._up is not None and self._up.done():
                    self._stop()
                return self.here(job)
            try:
                return self._start().submit(_render, job).result()
            except BrokenProcessPool:
                log.warning("the renderer process stopped; this change is rendered here")
                self._stop()
                self._start()  # another, for the next change
                return self.here(job)

    def warm(self) -> None:
        """Start the renderer process, if it is not running, without waiting for it."""
        with self._lock:
            self._start()

    def wait(self, timeout: float) -> bool:
        """Whether the renderer is up within `timeout` seconds (tests)."""
        with self._lock:
            up = self._up
        if up is None:
            return False
        try:
            up.result(timeout)
        except Exception:
            return False
        return True

    @property
    def pid(self) -> int | None:
        """The renderer process's id, once started."""
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=_SPAWN, initializer=_open, initargs=(self.settings, os.getpid())
            )
            self._up = self._pool.submit(_ping)
        return self._pool

    def _stop(self) -> None:
        if self._pool is not None:
            # It holds nothing to save (it reads the store; pictures are written atomically),
            # and a renderer still importing would hold the server's stop for seconds.
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._up = None

    def close(self) -> None:
        with self._lock:
            self._stop()


# -- in the renderer process -------------------------------------------------------------

_sites: Sites | None = None
_clock = FixedClock(dt.datetime.now(dt.UTC))  # set to each job's moment
_max_age = 0
_first = True  # nothing rendered yet (no warm-up): frozen again after the first job


def _open(settings: Settings, parent: int) -> None:
    global _sites, _max_age, _first
    die_with_parent(parent)  # a server killed (SIGKILL, OOM) leaves no renderer behind
    os.nice(NICE)
    store = open_store(settings, upgrade=False)
    _sites = site_of(settings, store.releases, _clock, release_media(settings))
    _max_age = settings.feeds.ttl_minutes * 60
    remember_entries(KEPT)  # each change re-renders feeds of mostly the same entries
    try:
        _clock.at = dt.datetime.now(dt.UTC)
        warm_up(_sites, _max_age)  # the first change then costs what the next ones do
    except Exception:  # the jobs will say what is wrong; the renderer still opens
        log.warning("the renderer could not render the main feeds ahead", exc_info=True)
    else:
        _first = False  # templates and locale data are loaded: frozen now, not after a job
    _freeze()


def _freeze() -> None:
    """What the renderer holds for good (imports, site, templates and locale data) out of
    the collector's full walks: one took ~30 ms of a change's
    render at 10,000 releases (issue 18), as the serving process found (schedule.py)."""
    gc.collect()
    gc.freeze()


def _ping() -> None:
    """Answered once `_open` has run: the renderer is up."""


def _render(job: HotJob) -> list[Ready]:
    if _sites is None:
        raise RuntimeError("the renderer process was not opened")
    global _first
    _clock.at = job.now  # the moment of the change, as the service's clock said it
    ready = render_hot(_sites, job, _max_age)
    if _first:
        _first = False
        _freeze()
    return ready
