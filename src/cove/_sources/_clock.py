"""The clock seam: sources that wait for wall-clock times take one injected."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time plus a way to wait; tests swap in ``cove.testing.FakeClock``."""

    def now(self) -> float:
        """Seconds since the Unix epoch, like ``time.time()``."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait about ``seconds``; callers re-read ``now()`` after waking."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
