"""Issue 18 item 5, what the live jobs do so readers do not wait: while the file watcher
runs, a scan tick nobody woke does not look at the whole folder (a look of 10,000 files held
the GIL ~70 ms every tick), and every FULL_LOOK_TICKS-th quiet tick still does, for an event
the watcher missed; what the start built is kept out of the collector's full walks."""

from __future__ import annotations

import gc
from pathlib import Path

from feedsvc.clock import FixedClock
from feedsvc.schedule import FULL_LOOK_TICKS, Schedule
from tests.test_schedule import make_service, release, settled, wall_now


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
