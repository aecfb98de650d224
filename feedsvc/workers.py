"""Worker processes that die with their parent, and collect their own cycles.

A process pool's workers block on their task pipe: if the parent is killed (SIGKILL, the
OOM killer) they would wait there for ever, holding database connections and, for an
export, writing into a staging folder nobody will swap in. Linux can send them a signal
when their parent dies (prctl PR_SET_PDEATHSIG); elsewhere they are left as they are.

`feedsvc build` pauses the cyclic garbage collector in its own process
(`collections_paused`); a worker forked meanwhile would inherit the pause, so each turns it
back on first thing (`start_worker`). What the parent holds at the fork is frozen first
(the `gc.freeze` documentation's advice): a child's collections would otherwise walk it
all, writing to every page of it, which fork had shared.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1
_paused = 0  # collections_paused blocks running in this process


def _freeze_before_fork() -> None:
    if _paused:
        gc.freeze()  # unfrozen at the pause's end, with everything else


os.register_at_fork(before=_freeze_before_fork)


def start_worker(parent: int) -> None:
    """Call first thing in a worker (a pool's initializer); `parent` is the pool owner's
    pid."""
    collect_own_cycles()
    die_with_parent(parent)


def collect_own_cycles() -> None:
    """In a forked worker: collect its cycles, whatever its parent was doing at the fork
    (a pool's initializer where the worker need not die with its parent)."""
    global _paused
    _paused = 0
    gc.enable()


@contextmanager
def collections_paused() -> Iterator[None]:
    """No cyclic garbage collection in this process meanwhile: for a batch that builds
    large, long-lived and acyclic tables (a build's file states, rows, keys, manifests and
    listings: ~60,000 tuples a second build at 10,000 releases). Each young collection
    would walk them again, and three full ones did: ~0.1 s of a 1 s second build (issue
    18), for no memory back. Reference counting frees everything else as before; the
    collector runs again, as it was, at the end."""
    global _paused
    was, frozen = gc.isenabled(), gc.get_freeze_count()
    gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if not frozen:
            # What the batch made and still holds joins the oldest generation at once (two
            # list splices), as collections would have moved it: else the first young
            # collection after the pause walks all of it (~30 ms at 10,000 releases). Not
            # in a process that froze objects for good (serve): unfreeze would undo that.
            gc.freeze()
            gc.unfreeze()
        if was:
            gc.enable()


def die_with_parent(parent: int) -> None:
    """Call first thing in a worker; `parent` is the pool owner's pid."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
