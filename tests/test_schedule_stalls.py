"""Issue 18 item 5, what the live jobs do so readers do not wait: while the file watcher
runs, a scan tick nobody woke does not look at the whole folder (a look of 10,000 files held
the GIL ~70 ms every tick), and every FULL_LOOK_TICKS-th quiet tick still does, for an event
the watcher missed; what the start built is kept out of the collector's full walks."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest

from feedsvc.clock import FixedClock
from feedsvc.schedule import FULL_LOOK_TICKS, Schedule
from tests.test_schedule import eventually, make_service, release, settled, wall_now


def test_quiet_ticks_leave_the_folder_to_the_watcher_but_a_full_look_comes(
    tmp_path: Path,
) -> None:
    service = make_service(tmp_path, FixedClock(wall_now()))
    service.start()
    # Written before the watcher starts: it never hears of this file (a missed event).
    settled(service.settings.items.dir / "missed.md", release("Missed"))
    schedule = Schedule(service, watch=True)
    schedule.start()
    try:
        assert schedule._watcher is not None and schedule._watcher.is_alive()
        tick = schedule.scheduler.get_job("scan").func  # the job as the scheduler runs it
        for _ in range(FULL_LOOK_TICKS - 1):
            tick()
            assert "missed" not in service.cache.tokens
        tick()
        assert "missed" in service.cache.tokens
    finally:
        schedule.stop()
        service.close()


def test_what_the_start_built_is_frozen_while_running_and_given_back_at_stop(
    tmp_path: Path,
) -> None:
    service = make_service(tmp_path, FixedClock(wall_now()))
    service.start()
    schedule = Schedule(service, watch=False)
    try:
        schedule.start()
        assert gc.get_freeze_count() > 10_000  # the service and its imports, at least
    finally:
        schedule.stop()
        service.close()
    assert gc.get_freeze_count() == 0


def test_a_file_the_watcher_names_is_published_without_listing_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the watcher's events name the files; the woken scan looks at those (one
    stat each) instead of listing the folder, whose size then costs a change nothing."""
    import feedsvc.scanner as scanning

    listed: list[Path] = []
    real = scanning.release_files
    monkeypatch.setattr(scanning, "release_files", lambda d: listed.append(d) or real(d))
    service = make_service(tmp_path, FixedClock(wall_now()))
    for n in range(20):
        settled(service.settings.items.dir / f"old-{n}.md", release(f"Old {n}"))
    service.start()
    assert len(listed) == 1  # the start's look
    schedule = Schedule(service, watch=True)
    schedule.start()
    try:
        time.sleep(0.2)  # inotify is set up
        settled(service.settings.items.dir / "seen.md", release("Seen"))
        eventually(lambda: "seen" in service.cache.tokens)
        (service.settings.items.dir / "old-3.md").unlink()
        eventually(lambda: "old-3" not in service.cache.tokens)
    finally:
        schedule.stop()
        service.close()
    assert len(listed) == 1, "a woken scan listed the whole folder"


def test_the_files_a_failed_scan_was_told_of_are_looked_at_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedsvc.scanner as scanning

    listed: list[Path] = []
    real_listing = scanning.release_files
    monkeypatch.setattr(scanning, "release_files", lambda d: listed.append(d) or real_listing(d))
    service = make_service(tmp_path, FixedClock(wall_now()))
    service.start()
    schedule = Schedule(service, watch=True)
    schedule.start()
    real_scan, calls = service.scan, []

    def failing_once(**how: object) -> object:
        calls.append(how)
        if len(calls) == 1:
            raise RuntimeError("a defect in the scan")
        return real_scan(**how)  # type: ignore[arg-type]

    service.scan = failing_once  # type: ignore[method-assign]
    try:
        time.sleep(0.2)  # inotify is set up
        settled(service.settings.items.dir / "seen.md", release("Seen"))
        eventually(lambda: calls)
        schedule.scheduler.get_job("scan").func()  # the next tick
        eventually(lambda: "seen" in service.cache.tokens)
    finally:
        schedule.stop()
        service.close()
    assert "seen.md" in calls[0]["changed"] and "seen.md" in calls[1]["changed"]
    assert len(listed) == 1  # the start's look only


def test_a_change_while_the_last_scan_is_ending_is_not_left_for_the_next_tick(
    tmp_path: Path,
) -> None:
    """A CI run caught a wake whose scan the scheduler skipped because the last one had not
    quite ended (one instance at most): the change then waited for the next tick (an hour
    here). The end of a scan is held open here, and a file lands during it."""
    service = make_service(tmp_path, FixedClock(wall_now()))
    service.start()
    schedule = Schedule(service, watch=True)
    real_next, ending = service.next_embargo, threading.Event()

    def slow_next_embargo() -> object:  # the last thing a scan does: arm the embargo job
        ending.set()
        time.sleep(0.4)
        return real_next()

    service.next_embargo = slow_next_embargo  # type: ignore[method-assign]
    schedule.start()
    ending.clear()
    try:
        time.sleep(0.2)  # inotify is set up
        settled(service.settings.items.dir / "first.md", release("First"))
        assert ending.wait(3), "the woken scan did not end"
        settled(service.settings.items.dir / "second.md", release("Second"))
        eventually(lambda: "second" in service.cache.tokens)
        assert "first" in service.cache.tokens
    finally:
        schedule.stop()
        service.close()
