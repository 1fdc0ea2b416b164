"""Log lines that cannot flood: at most one per key per interval, the next one counting
the lines left out. A transport that is down fails every send, a listener at its cap
refuses every connection; without this their logs grow as fast as the failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class RateLimitedLog:
    def __init__(
        self,
        emit: Callable[..., Any],
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._interval = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, limit_key: str, message: str, **fields: Any) -> bool:
        """Log unless ``limit_key`` logged within the interval; True when a line was written."""
        now = self._clock()
        last = self._last.get(limit_key)
        if last is not None and now - last < self._interval:
            self._suppressed[limit_key] = self._suppressed.get(limit_key, 0) + 1
            return False
        self._last[limit_key] = now
        suppressed = self._suppressed.pop(limit_key, 0)
        if suppressed:
            fields["suppressed"] = suppressed
        self._emit(message, **fields)
        return True
