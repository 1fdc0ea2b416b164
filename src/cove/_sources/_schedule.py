"""When ticks are due: ``every`` intervals and cron expressions, in epoch milliseconds.

Intervals are aligned to the Unix epoch (``every = "30s"`` ticks at :00 and
:30), not to when the engine started, so every engine and every restart
computes the same tick times, and the same event ids. Cron expressions are
read in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

from .._units import parse_duration_ms


@dataclass(frozen=True, slots=True)
class Due:
    """Ticks due in a window, oldest first; ``dropped`` when the cap cut older ones."""

    ticks: list[int]
    dropped: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """One tick schedule: exactly one of ``cron`` or ``every_ms``."""

    label: str
    cron: str | None = None
    every_ms: int | None = None

    @classmethod
    def from_spec(cls, label: str, schedule: str | None, every: str | None) -> Schedule:
        if (schedule is None) == (every is None):
            raise ValueError(f"tick schedule {label!r} needs exactly one of schedule or every")
        if every is not None:
            return cls(label, every_ms=parse_duration_ms(every))
        return cls(label, cron=schedule)

    def next_after(self, ms: int) -> int:
        """The first tick strictly after ``ms``."""
        if self.every_ms is not None:
            return (ms // self.every_ms + 1) * self.every_ms
        return _cron_ms(self._cron(ms).get_next(float))

    def due(self, after_ms: int, upto_ms: int, cap: int) -> Due:
        """Ticks in ``(after_ms, upto_ms]``: the newest ``cap`` of them."""
        if self.every_ms is not None:
            step = self.every_ms
            first = (after_ms // step + 1) * step
            last = upto_ms // step * step
            if last < first:
                return Due([], False)
            kept_first = max(first, last - (cap - 1) * step)
            return Due(list(range(kept_first, last + 1, step)), kept_first > first)
        # Walk back from the end so a long outage costs at most ``cap`` steps.
        it = self._cron(upto_ms + 1)
        ticks: list[int] = []
        while len(ticks) < cap:
            tick = _cron_ms(it.get_prev(float))
            if tick <= after_ms:
                return Due(ticks[::-1], False)
            ticks.append(tick)
        dropped = _cron_ms(it.get_prev(float)) > after_ms
        return Due(ticks[::-1], dropped)

    def _cron(self, start_ms: int) -> croniter:
        assert self.cron is not None
        return croniter(self.cron, datetime.fromtimestamp(start_ms / 1000, UTC))


def _cron_ms(seconds: float) -> int:
    return round(seconds * 1000)
