"""Budgets a module spends across events: its emits per second, its output lines per second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``per_second`` takes on average, bursts up to ``burst``.

    The emit rate has one per module, shared by its events, tool calls and
    retries, so a module whose emits feed itself (or a loop of modules) grows
    the journal at a bounded rate however each event behaves.
    """

    def __init__(
        self, per_second: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._burst = float(max(burst, 1))
        self._tokens = self._burst
        self._clock = clock
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one; False when over the rate."""
        return self.take_up_to(1) == 1

    def take_up_to(self, wanted: int) -> int:
        """Spend as many of ``wanted`` as the rate allows now; how many were spent."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self.per_second)
            self._at = now
            spent = min(wanted, int(self._tokens))
            self._tokens -= spent
            return spent
