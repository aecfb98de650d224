"""The Schedule on its own (issue 13): a real Service and store, APScheduler running, and
an injected FixedClock. Times the schedule computes are read from the clock; when the
scheduler fires them is wall-clock business, so a test that needs a job to run sets the
clock at the wall clock's now (see the module comment of feedsvc/schedule.py)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.clock import FixedClock, SystemClock
from feedsvc.config import settings_from_dict
from feedsvc.model import Changes
from feedsvc.schedule import Schedule
from feedsvc.service import Service, Tick
from tests.conftest import BASE_URL, new_database_url

FUTURE = dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC)  # the scheduler never gets there


def wall_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_service(root: Path, clock: FixedClock, **items: float) -> Service:
    settings = settings_from_dict(
        {
            "site": {"base_url": BASE_URL, "timezone": "Asia/Singapore"},
            "items": {"dir": "items", "scan_seconds": 3600, "settle_seconds": 0.2, **items},
            "outbox": {"tick_seconds": 7},
            "server": {"readers_flush_seconds": 11, "watch": False},
            "database": {"url": new_database_url(root)},
        },
        root=root,
    )
    (root / "items").mkdir(exist_ok=True)
    return Service(settings, clock)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[..., Schedule]]:
    """Start a Schedule over a started Service; both are stopped after the test."""
    started: list[tuple[Schedule, Service]] = []

    def start(service_clock: FixedClock, watch: bool = False, **kwargs) -> Schedule:
        service = make_service(tmp_path, service_clock)
        service.start()
        schedule = Schedule(service, watch=watch, **kwargs)
        started.append((schedule, service))
        schedule.start()
        return schedule

    yield start
    for schedule, service in started:
        if schedule.scheduler.running:
            schedule.stop()
        service.close()


def release(title: str, publish_at: dt.datetime | None = None) -> str:
    embargo = f"publish_at = {publish_at:%Y-%m-%dT%H:%M:%SZ}\n" if publish_at else ""
    head = f'title = "{title}"\ndate = 2026-12-01T08:00:00Z\nsection = "S"\n{embargo}'
    return f"+++\n{head}+++\nText.\n"


def settled(path: Path, text: str) -> None:
    path.write_text(text)
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))


def eventually(condition: Callable[[], object], within: float = 1.5) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        time.sleep(0.02)


def published(schedule: Schedule) -> set[str]:
    return set(schedule.service.cache.tokens)


def test_jobs_are_armed_from_the_injected_clock_at_the_settings_intervals(running) -> None:
    clock = FixedClock(FUTURE)
    schedule = running(clock)
    jobs = {job.id: job for job in schedule.scheduler.get_jobs()}
    # No embargo pending; no bounce maildir configured.
    assert set(jobs) == {"scan", "dispatch", "purge", "readers", "digests"}
    seconds = {name: job.trigger.interval.total_seconds() for name, job in jobs.items()}
    assert seconds == {
        "scan": 3600,
        "dispatch": 7,
        "purge": 6 * 3600,
        "readers": 11,
        "digests": 60,  # issue 16: due digests looked for every minute, and at start
    }
    # The first scan one interval after the clock's now; what waited is sent at once.
    assert jobs["scan"].next_run_time == FUTURE + dt.timedelta(seconds=3600)
    assert jobs["dispatch"].next_run_time == FUTURE


def test_an_explicit_clock_beats_the_services(running) -> None:
    own = FixedClock(FUTURE + dt.timedelta(days=3))
    schedule = running(FixedClock(FUTURE), clock=own)
    assert schedule.scheduler.get_job("dispatch").next_run_time == own.now()
    schedule.wake(5)
    assert schedule.scheduler.get_job("scan").next_run_time == own.now() + dt.timedelta(seconds=5)


def test_wake_brings_the_scan_forward(running) -> None:
    clock = FixedClock(FUTURE)
    schedule = running(clock)
    schedule.wake(2.5)
    assert schedule.scheduler.get_job("scan").next_run_time == FUTURE + dt.timedelta(seconds=2.5)


def test_a_wake_scans_the_folder_long_before_the_next_tick(running) -> None:
    schedule = running(FixedClock(wall_now()))  # the scan tick is an hour away
    settled(schedule.service.settings.items.dir / "news.md", release("News"))
    assert published(schedule) == set()
    schedule.wake()
    eventually(lambda: published(schedule) == {"news"})


def test_a_file_still_being_written_is_looked_at_again_after_settling(running) -> None:
    # The look again comes settle_seconds after the look, by the schedule's clock: one that
    # moves (feedsvc/schedule.py says why a FixedClock would not do here).
    schedule = running(FixedClock(wall_now()), clock=SystemClock())
    (schedule.service.settings.items.dir / "fresh.md").write_text(release("Fresh"))
    schedule.wake()
    # The first look finds it too new (settle_seconds 0.2); the scan wakes itself again.
    eventually(lambda: published(schedule) == {"fresh"})


def test_the_embargo_job_is_armed_for_the_next_embargo(tmp_path: Path, running) -> None:
    clock = FixedClock(FUTURE - dt.timedelta(days=400))
    items = tmp_path / "items"
    items.mkdir()
    settled(items / "later.md", release("Later", FUTURE))
    settled(items / "sooner.md", release("Sooner", FUTURE - dt.timedelta(days=1)))
    schedule = running(clock)
    job = schedule.scheduler.get_job("embargo")
    assert job.next_run_time == FUTURE - dt.timedelta(days=1)


def test_the_embargo_job_lifts_it_then_goes_when_none_is_left(tmp_path: Path, running) -> None:
    now = wall_now()
    clock = FixedClock(now)
    items = tmp_path / "items"
    items.mkdir()
    # Whole seconds in a release file: due 1 to 2 s ahead, after the schedule has started.
    due = now + dt.timedelta(seconds=2)
    settled(items / "secret.md", release("Secret", due))
    schedule = running(clock)
    assert schedule.scheduler.get_job("embargo").next_run_time == due
    assert published(schedule) == set()
    # Whoever runs the job asks the clock whether the embargo is over: move it on before
    # the wall clock gets there.
    clock.advance(minutes=1)
    eventually(lambda: published(schedule) == {"secret"}, within=2.5)
    eventually(lambda: schedule.scheduler.get_job("embargo") is None)


def test_the_embargo_job_goes_when_its_release_goes(tmp_path: Path, running) -> None:
    items = tmp_path / "items"
    items.mkdir()
    settled(items / "secret.md", release("Secret", FUTURE))
    schedule = running(FixedClock(wall_now()))
    assert schedule.scheduler.get_job("embargo") is not None
    (items / "secret.md").unlink()
    schedule.wake()
    eventually(lambda: schedule.scheduler.get_job("embargo") is None)


def test_a_failing_job_is_logged_and_counted_and_the_next_tick_runs(
    running, caplog: pytest.LogCaptureFixture
) -> None:
    schedule = running(FixedClock(wall_now()))
    service = schedule.service
    real_scan = service.scan
    looks: list[str] = []

    def scan_failing_once(**how: Any) -> Tick:
        if not looks:
            looks.append("failed")
            raise RuntimeError("a defect in the scan")
        looks.append("ok")
        return real_scan(**how)

    # Failure injection only: the Schedule binds its jobs to the Service when they run.
    service.scan = scan_failing_once  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="feedsvc.schedule"):
        schedule.wake()
        eventually(lambda: service.metrics.job_failures["scan"] == 1)
        settled(service.settings.items.dir / "after.md", release("After"))
        schedule.wake()
        eventually(lambda: published(schedule) == {"after"})
        # Counted once the job has returned, just after the cache shows its work.
        eventually(lambda: service.metrics.job_runs["scan"] >= 2)
    assert looks[:2] == ["failed", "ok"]
    assert service.metrics.job_failures["scan"] == 1
    assert [r.getMessage() for r in caplog.records] == ["job scan failed"]
    assert "a defect in the scan" in caplog.text


def test_the_watcher_wakes_the_scan_and_stop_ends_it(running) -> None:
    schedule = running(FixedClock(wall_now()), watch=True)
    watcher = schedule._watcher
    assert watcher is not None and watcher.is_alive()
    time.sleep(0.2)  # inotify is set up
    settled(schedule.service.settings.items.dir / "seen.md", release("Seen"))
    eventually(lambda: published(schedule) == {"seen"})
    schedule.stop()
    assert not watcher.is_alive()
    assert not schedule.scheduler.running
    schedule.wake()  # after stop: nothing, and no error


def test_stop_returns_once_the_job_running_has_ended(running) -> None:
    """The service is closed right after stop(): a job still running then would work on a
    closed store, which reconnects for it (a CI run caught one querying a PostgreSQL
    database while it was being emptied for the next test)."""
    schedule = running(FixedClock(wall_now()))
    service = schedule.service
    began, ended = threading.Event(), threading.Event()

    def slow_dispatch(stop: threading.Event) -> None:
        began.set()
        time.sleep(0.4)
        ended.set()

    eventually(lambda: service.metrics.job_runs["dispatch"] >= 1)  # the start's own is over
    service.dispatch = slow_dispatch  # type: ignore[method-assign]
    schedule.wake_dispatch()
    assert began.wait(5)
    schedule.stop()
    assert ended.is_set(), "stop() returned while a job was still running"


def test_a_job_handed_over_before_stop_does_not_begin_after_it(running) -> None:
    schedule = running(FixedClock(wall_now()))
    service = schedule.service
    calls: list[object] = []

    def scan(**how: object) -> Tick:
        calls.append(how)
        return Tick(Changes())

    service.scan = scan  # type: ignore[method-assign]
    job = schedule.scheduler.get_job("scan").func  # as the scheduler's thread runs it
    schedule.stop()
    job()  # the thread got to it only now
    assert calls == []
