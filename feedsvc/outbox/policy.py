"""When to try a failed delivery again: a pure decision, no I/O, no clock of its own."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from feedsvc.channels import DeliveryFailed

# The wait before attempt n (1-based), after the attempt before it failed: the first
# attempt at once, the first retry 5 s later, then 5 min, 30 min, 2 h, 5 h, 10 h, 10 h:
# about 27.6 hours from the first attempt to the last, long enough to outlast a night's
# outage. A retry is sent at the dispatcher's next look after its time (outbox.tick_seconds).
DEFAULT_DELAYS = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True)
class RetryPolicy:
    delays: tuple[float, ...] = DEFAULT_DELAYS
    jitter: float = 0.1  # each wait is stretched or shrunk by up to this share, at random
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    def decide(self, attempts: int, error: DeliveryFailed, now: dt.datetime) -> dt.datetime | None:
        """After `attempts` attempts, the last failing with `error`: when to try again, or
        None to give up (the delivery is dead). A receiver's Retry-After is honoured, but
        never beyond the longest wait of the schedule."""
        if not error.transient or attempts >= len(self.delays):
            return None
        wait = self.delays[attempts]
        if wait:
            # Jitter spreads the retries of many deliveries that failed together (one
            # outage) so they do not all come back at the same second.
            wait *= 1 + self.rng.uniform(-self.jitter, self.jitter)
        if error.retry_after is not None:
            wait = max(wait, min(error.retry_after, max(self.delays)))
        return now + dt.timedelta(seconds=wait)
