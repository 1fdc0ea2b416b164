"""A clock that moves only when a test says so."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Implements the ``Clock`` protocol; ``advance`` moves time and wakes sleepers.

    Sleepers wake when the time they asked for has come, never because real
    time passed, so tests of schedules need no wall-clock waits.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + max(0.0, seconds), future)
        self._sleepers.append(entry)
        try:
            if entry[0] > self._now:
                await future
            else:
                await asyncio.sleep(0)  # a zero sleep still lets others run
        finally:
            self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake everyone whose deadline has passed."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now += seconds
        for deadline, future in self._sleepers:
            if deadline <= self._now and not future.done():
                future.set_result(None)

    def set(self, now: float) -> None:
        """Jump to an absolute time (forward only)."""
        self.advance(now - self._now)

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this clock right now."""
        return sum(1 for _, future in self._sleepers if not future.done())
