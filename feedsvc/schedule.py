"""APScheduler 3 wiring: jobs only tick; what they do is in Service, the truth in the store.

- scan: every items.scan_seconds, sooner when the file watcher sees a change, and again
  items.settle_seconds after a look that found a file still being written; while the
  watcher runs, a tick nobody woke only follows the change log, and looks at the whole
  folder every FULL_LOOK_TICKS-th time, for an event a watcher may miss (issue 18 item 5:
  a look of 10,000 files holds the GIL ~70 ms, a stall for every reader); a woken scan
  looks at the files the watcher named (Scanner.look's `changed`), the folder only when
  a wake named none (and when those names cannot tell, the scanner's rule);
- embargo: a date trigger armed for the next release under embargo, re-armed after every
  scan and publication, and at start;
- dispatch: every outbox.tick_seconds, and at once when a scan or an embargo queued
  deliveries: send what is due (Service.dispatch);
- purge: every six hours, forget deliveries that ended long ago;
- readers: every server.readers_flush_seconds, store who fetched the feeds (issue 12);
- digests: every minute, and at start: queue the daily and weekly alert digests that
  are due, a missed one caught up (issue 16), then dispatch;
- bounces: every alerts.bounce_seconds, read the bounce maildir (issue 16).
Jobs never overlap (max_instances=1, coalesce=True), the scan aside: one scan looks at a
time, and a wake while it runs or ends makes it look again or starts one that does (the
scheduler skipped such a wake while the last scan was ending, and the change waited for the
next tick); a failing job is logged and counted and the service goes on (while the database
is out of reach, one line a minute).

Time: every moment this module computes (the first scan, "dispatch now", a wake) comes from
the injected clock (issue 13), the service's unless `clock=` says otherwise. APScheduler
itself waits on the wall clock and runs a job once its time has passed by the wall clock. In
production the clock is SystemClock, which *is* the wall clock, so both timelines agree and
nothing changes. A test with a FixedClock may rely on what is computed from it: the times
the jobs are armed for (scheduler.get_job(...).next_run_time) are the clock's now plus the
interval or delay, and the embargo job's run date is the store's next embargo. When the
scheduler fires them is wall-clock business: set at the wall clock's now, a FixedClock makes
"now" jobs run at once; set in the future, it holds them until the wall clock gets there. A
clock that stands still turns a delay asked from inside a job (the scan's look again after
settle_seconds) into "at once": a test of that re-look needs a clock that moves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import gc
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from feedsvc.clock import Clock
from feedsvc.service import Service, Tick
from feedsvc.store.outage import OUTAGES, is_unreachable

log = logging.getLogger("feedsvc.schedule")
# "Skipped: maximum number of running instances reached" is how coalescing works here (a
# job still running when its next tick comes), not news for the log.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
logging.getLogger("apscheduler.executors").setLevel(logging.ERROR)


class _Look(enum.Enum):
    FOLDER = "the whole folder"
    NAMED = "the files a wake named (the folder if it named none)"
    LOG = "the change log only"


FULL_LOOK_TICKS = 12  # with the watcher running: a minute at the default scan_seconds
# How long stop() waits for the jobs running (a scan of a whole new folder takes seconds);
# under systemd's own stop timeout (90 s), which would otherwise kill a stop mid-change.
STOP_WAIT_SECONDS = 60.0


class Schedule:
    def __init__(self, service: Service, watch: bool = True, clock: Clock | None = None) -> None:
        self.service = service
        self.clock = clock or service.clock
        self.items = service.settings.items
        self.watch = watch
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        self._stop = threading.Event()
        # A scan is looking now (_scanning), and a wake came since its look began (_again):
        # it looks again before it ends, so no change waits for a tick.
        self._scanning = False
        self._again = False
        self._woken = False  # a watcher event or a settling file asked for this scan
        # The files (relative to items/) the watcher saw change since the last look; None:
        # a wake that named none, so the next woken scan looks at the whole folder.
        self._changed: set[str] | None = set()
        self._changed_lock = threading.Lock()  # the watcher's thread adds, the scan takes
        self._quiet = 0  # ticks since the last look at the whole folder
        self._watcher: threading.Thread | None = None
        # The jobs running now: stop() waits for them, and none starts once it is called.
        self._running = 0
        self._jobs_lock = threading.Condition()

    def start(self) -> None:
        self.service.render_apart()  # issue 18 item 5: changes rendered off the serving GIL
        # Issue 18 item 5: what the start built (imports, site, cache: ~100,000 objects at
        # 1,000 releases) lives as long as the service, and a full collection walked it all
        # with the GIL held (~100-170 ms here), a stall for every reader. Frozen, the
        # collector leaves it alone; stop() gives it back.
        gc.collect()
        gc.freeze()
        soon = self.clock.now() + dt.timedelta(seconds=self.items.scan_seconds)
        self.scheduler.add_job(
            self._job("scan", self._scan),
            "interval",
            seconds=self.items.scan_seconds,
            id="scan",
            next_run_time=soon,
            # A wake while the last scan is still ending is not skipped: the scan it starts
            # leaves the change to the one looking, or looks itself (_scan).
            max_instances=3,
        )
        self.scheduler.add_job(
            self._job("dispatch", self._dispatch),
            "interval",
            seconds=self.service.settings.outbox.tick_seconds,
            id="dispatch",
            next_run_time=self.clock.now(),  # what waited while we were down
        )
        self.scheduler.add_job(
            self._job("purge", self.service.purge), "interval", hours=6, id="purge"
        )
        self.scheduler.add_job(
            self._job("readers", self.service.flush_readers),
            "interval",
            seconds=max(self.service.settings.server.readers_flush_seconds, 1),
            id="readers",
        )
        alerts = self.service.settings.alerts
        if alerts.enabled:
            self.scheduler.add_job(
                self._job("digests", self._digests),
                "interval",
                seconds=60,
                id="digests",
                next_run_time=self.clock.now(),  # a period missed while we were down
            )
            if alerts.bounce_maildir:
                self.scheduler.add_job(
                    self._job("bounces", self.service.read_bounces),
                    "interval",
                    seconds=alerts.bounce_seconds,
                    id="bounces",
                )
        self.scheduler.start()
        self._arm_embargo()
        if self.watch:
            self._watcher = threading.Thread(target=self._watch, name="watch", daemon=True)
            self._watcher.start()

    def stop(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """Stop the jobs: none starts from now on, and those running end (within `timeout`
        seconds) before this returns, so the service can be closed under none of them."""
        with self._jobs_lock:
            self._stop.set()
        # Not shutdown(wait=True): it holds the job store's lock while it waits, and a job
        # finishing meanwhile needs that lock to re-arm (a deadlock). The jobs are waited
        # for below instead, without that lock. A job the scheduler handed to its threads
        # just before but which had not begun would otherwise begin after the service had
        # closed, on a store that reconnects for it (a CI run on PostgreSQL caught one
        # querying while the test's database was being emptied).
        self.scheduler.shutdown(wait=False)
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        with self._jobs_lock:
            if not self._jobs_lock.wait_for(lambda: self._running == 0, timeout):
                log.warning("stopping: %d job(s) still running after %ss", self._running, timeout)
        gc.unfreeze()

    def wake(self, delay: float = 0.0, changed: Iterable[str] | None = None) -> None:
        """Run the scan job now (or after `delay` seconds) instead of at its next tick.
        `changed`: the files (relative to items/) that changed, all the scan must look at
        (with those still settling); None: it looks at the whole folder."""
        if self._stop.is_set():
            return
        self._name(changed)
        when = self.clock.now() + dt.timedelta(seconds=delay)
        with contextlib.suppress(JobLookupError):  # shutting down
            self.scheduler.modify_job("scan", next_run_time=when)

    def _name(self, changed: Iterable[str] | None) -> None:
        """Note the files a wake names (None: the folder) and that the scan was woken, in
        one step: a scan takes both together (_scan), so no name is taken by a tick that
        did not know it was woken."""
        with self._changed_lock:
            if changed is None:
                self._changed = None
            elif self._changed is not None:
                self._changed.update(changed)
            # A scan that is running now may have looked before this change: it looks
            # again before it ends (_scan).
            self._again = True
            self._woken = True

    def wake_dispatch(self) -> None:
        """Send now what a change just queued, instead of at the next tick."""
        if self._stop.is_set():
            return
        with contextlib.suppress(JobLookupError):
            self.scheduler.modify_job("dispatch", next_run_time=self.clock.now())

    def _dispatch(self) -> None:
        self.service.dispatch(stop=self._stop)

    def _digests(self) -> None:
        if any(run.queued for run in self.service.digests()):
            self.wake_dispatch()

    def _scan(self) -> None:
        """Look, and again while wakes came during the look, then arm what follows. One scan
        looks at a time: a woken instance that finds one looking leaves the change to it.
        (A wake's job used to be skipped by the scheduler while the last look was still
        ending, and the change then waited for the next tick: seconds.)"""
        with self._changed_lock:
            if self._scanning:
                self._again = True
                return
            self._scanning = True
        try:
            while True:
                tick = self._look()
                with self._changed_lock:
                    if not self._again or self._stop.is_set():
                        self._scanning = False
                        break
        except BaseException:
            with self._changed_lock:
                self._scanning = False
            raise
        if self._stop.is_set():
            return
        if tick.unsettled:  # names no file: what is settling is looked at again anyway
            self.wake(self.items.settle_seconds, changed=())
        self._arm_embargo()

    def _look(self) -> Tick:
        with self._changed_lock:
            self._again = False
            look = self._look_at()
            changed, self._changed = self._changed, set()
        try:
            if look is _Look.LOG:
                tick = self.service.scan(full=False)
            else:
                tick = self.service.scan(changed=changed if look is _Look.NAMED else None)
        except BaseException:
            self._name(changed)  # not looked at: the next tick looks again, woken
            raise
        if tick.changes.enqueued:
            self.wake_dispatch()
        return tick

    def _look_at(self) -> _Look:
        """What this scan looks at: the whole folder when no watcher runs and every
        FULL_LOOK_TICKS-th quiet tick; the files a wake named when woken; else only the
        change log."""
        woken, self._woken = self._woken, False
        watching = self._watcher is not None and self._watcher.is_alive()
        if not watching or self._quiet >= FULL_LOOK_TICKS - 1:
            self._quiet = 0
            return _Look.FOLDER
        if woken:
            self._quiet = 0
            return _Look.NAMED
        self._quiet += 1
        return _Look.LOG

    def _publish(self) -> None:
        tick = self.service.publish_due()
        if tick.changes.enqueued:
            self.wake_dispatch()
        self._arm_embargo()

    def _arm_embargo(self) -> None:
        if self._stop.is_set():
            return
        when = self.service.next_embargo()
        if when is None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job("embargo")
            return
        self.scheduler.add_job(
            self._job("embargo", self._publish),
            "date",
            run_date=when,
            id="embargo",
            replace_existing=True,
        )

    def _job(self, name: str, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._jobs_lock:
                if self._stop.is_set():
                    return  # handed over before stop(), begun after: not on a closing service
                self._running += 1
            try:
                work()
            except Exception as e:
                # A database outage fails every tick alike: one line a minute, not a
                # traceback a tick (issue 11). Anything else is a defect.
                if is_unreachable(e):
                    OUTAGES.failed(e, f"job {name} tries again at its next tick", job=name)
                else:
                    log.exception("job %s failed", name)
                self.service.metrics.job(name, ok=False)
            else:
                OUTAGES.succeeded(name)
                self.service.metrics.job(name, ok=True)
            finally:
                with self._jobs_lock:
                    self._running -= 1
                    self._jobs_lock.notify_all()

        return run

    def _watch(self) -> None:
        import watchfiles

        folder = Path(self.items.dir)
        try:
            for events in watchfiles.watch(
                folder, stop_event=self._stop, debounce=50, step=25, raise_interrupt=False
            ):
                self.wake(changed=_relative(folder, (path for _, path in events)))
        except Exception:  # no inotify here, or the folder went away: polling still runs
            log.exception("file watching stopped; the periodic scan goes on")


def _relative(folder: Path, paths: Iterable[str]) -> list[str] | None:
    """`paths` relative to `folder`, with '/'; None if one is not below it (a look at the
    whole folder then)."""
    found = []
    root = str(folder)
    for path in paths:
        rel = os.path.relpath(path, root)
        if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
            return None
        found.append(rel.replace(os.sep, "/"))
    return found
