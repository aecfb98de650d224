"""Worker processes that die with their parent.

A process pool's workers block on their task pipe: if the parent is killed (SIGKILL, the
OOM killer) they would wait there for ever, holding database connections and, for an
export, writing into a staging folder nobody will swap in. Linux can send them a signal
when their parent dies (prctl PR_SET_PDEATHSIG); elsewhere they are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Call first thing in a worker; `parent` is the pool owner's pid."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
