"""When to try again after a transient failure: capped exponential backoff, full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after the attempt numbered `attempt` (1-based) failed."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        jittered = (rng or random).uniform(0, ceiling)
        # The PMS's own Retry-After is a floor: asking earlier only earns another 429.
        return max(jittered, retry_after or 0.0)

    def exhausted(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts
