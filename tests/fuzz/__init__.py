"""The fuzz budget. Every submission runs the fuzz tests on the short "ci" budget (part of the
plain `pytest` run, well under half a minute); `FEEDSVC_FUZZ=long` runs them a hundred times
longer, on demand.

The profiles are registered with hypothesis under these names (`--hypothesis-profile=long`
would load one for every property test of the suite), but the fuzz tests take theirs from
FEEDSVC_FUZZ through `fuzz()`, so the rest of the suite keeps its own settings.
"""

from __future__ import annotations

import os
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

BUDGETS = ("ci", "long")

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,  # reading, parsing and HTTP round trips vary with the machine's load
    derandomize=False,  # each run explores anew; a failure is kept in .hypothesis/ to replay
    suppress_health_check=[
        HealthCheck.too_slow,  # files on disk and HTTP calls are slow by hypothesis' measure
        HealthCheck.data_too_large,  # long names, subjects and files are drawn on purpose
    ],
    print_blob=True,  # a failure prints the @reproduce_failure line
)
settings.register_profile("long", parent=settings.get_profile("ci"), max_examples=20_000)

BUDGET = os.environ.get("FEEDSVC_FUZZ", "") or "ci"
if BUDGET not in BUDGETS:
    raise ValueError(f"FEEDSVC_FUZZ={BUDGET!r}: expected one of {', '.join(BUDGETS)}")


def fuzz(share: float = 1.0) -> settings:
    """The budget's settings, with `share` of its examples (for tests whose examples cost
    much more than others': a folder of files, an HTTP round trip)."""
    profile = settings.get_profile(BUDGET)
    return settings(profile, max_examples=max(1, round(profile.max_examples * share)))


def mostly(good: st.SearchStrategy[T], bad: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`good` four times in five: most inputs get past the first check, and deeper."""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 0 else good)
