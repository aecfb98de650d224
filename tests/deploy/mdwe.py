"""Run a program as systemd's MemoryDenyWriteExecute=yes would: `python mdwe.py PROGRAM ARG...`.

systemd enforces it with a seccomp filter that refuses writable-and-executable mappings
and making memory executable later; the kernel's own PR_SET_MDWE (Linux 6.3) refuses the
same, is inherited across fork and execve, and needs no systemd to run under. Exit 125
when the kernel lacks it."""

from __future__ import annotations

import ctypes
import os
import sys

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
UNSUPPORTED = 125


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        error = os.strerror(ctypes.get_errno())
        print(f"mdwe: prctl(PR_SET_MDWE): {error} (needs Linux 6.3 or later)", file=sys.stderr)
        sys.exit(UNSUPPORTED)
    os.execv(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
