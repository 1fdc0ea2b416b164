"""The tick source: one task serves every ``kind = "tick"`` subscription.

Each schedule remembers the last tick it delivered (``set_source_state``
under ``cron:<label>``). After a restart every tick that fell due while the
engine was down is delivered once, with its own ``scheduled_at_ms``, up to
``max_catch_up`` per schedule (the newest are kept and a warning names the
gap). A schedule seen for the first time starts from now: no backfill.

Event ids are ``tick:<label>:<scheduled_ms>``, so publishing a tick twice
(a crash between journaling and saving progress, or two engines on one
schedule) journals it once. That is why progress is saved *after* publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog

from .._events import Event, Tick
from ._base import Publish, Source
from ._clock import Clock, SystemClock
from ._schedule import Schedule

MAX_CATCH_UP: Final = 1_000
"""Missed ticks delivered per schedule after downtime; older ones are dropped."""

MAX_SLEEP_S: Final = 60.0
"""Re-read the clock at least this often, so a wall-clock jump is noticed."""


class ProgressStore(Protocol):
    """The part of the engine's ``Store`` a source keeps its progress in."""

    def source_state(self, source: str) -> str | None: ...
    def set_source_state(self, source: str, value: str) -> None: ...


class TickSpec(Protocol):
    """What the source needs from a tick subscription (a manifest's, or a test's)."""

    @property
    def label(self) -> str: ...
    @property
    def schedule(self) -> str | None: ...
    @property
    def every(self) -> str | None: ...


@dataclass(slots=True)
class _Tracked:
    schedule: Schedule
    last_ms: int


def state_key(label: str) -> str:
    return f"cron:{label}"


def tick_event(label: str, scheduled_ms: int) -> Event:
    return Event(Tick(label, scheduled_ms), id=f"tick:{label}:{scheduled_ms}")


class CronSource(Source):
    """Publishes tick events when schedules fall due; progress survives restarts."""

    name = "cron"

    def __init__(
        self,
        specs: Iterable[TickSpec],
        store: ProgressStore,
        clock: Clock | None = None,
        *,
        max_catch_up: int = MAX_CATCH_UP,
        log: Any = None,
    ) -> None:
        if max_catch_up < 1:
            raise ValueError("max_catch_up must be at least 1")
        self._store = store
        self._clock = clock or SystemClock()
        self._cap = max_catch_up
        self._log = log or structlog.get_logger("cove.cron")
        # Read progress now, not in run(): "starts from now" means when the
        # engine started, however late the task first gets scheduled.
        now = self._now_ms()
        self._tracked: dict[str, _Tracked] = {}
        for spec in specs:
            if spec.label not in self._tracked:
                schedule = Schedule.from_spec(spec.label, spec.schedule, spec.every)
                if self._never_due(schedule, now):
                    continue
                self._tracked[spec.label] = _Tracked(schedule, self._load(spec.label, now))

    @property
    def labels(self) -> list[str]:
        return sorted(self._tracked)

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    def _never_due(self, schedule: Schedule, now_ms: int) -> bool:
        # A valid cron expression can still name no real date ("0 0 30 2 *");
        # croniter then raises, and one such schedule must not stop the rest.
        try:
            schedule.next_after(now_ms)
        except ValueError as exc:
            self._log.error(
                "tick schedule ignored: it never falls due", schedule=schedule.label, error=str(exc)
            )
            return True
        return False

    def _load(self, label: str, now_ms: int) -> int:
        stored = self._store.source_state(state_key(label))
        if stored is not None:
            try:
                return int(stored)
            except ValueError:
                self._log.warning(
                    "cron progress unreadable; starting from now", schedule=label, stored=stored
                )
        self._store.set_source_state(state_key(label), str(now_ms))
        return now_ms

    async def run(self, publish: Publish) -> None:
        if not self._tracked:
            return
        while True:
            now = self._now_ms()
            await self.publish_due(publish, now)
            wake = min(t.schedule.next_after(t.last_ms) for t in self._tracked.values())
            await self._clock.sleep(min(MAX_SLEEP_S, (wake - now) / 1000))

    async def publish_due(self, publish: Publish, now_ms: int) -> int:
        """Publish every tick due by ``now_ms``, oldest first; returns how many."""
        due_ticks: list[tuple[int, str]] = []
        for label, tracked in self._tracked.items():
            due = tracked.schedule.due(tracked.last_ms, now_ms, self._cap)
            if due.dropped:
                self._log.warning(
                    "missed ticks dropped: more than the catch-up cap fell due while stopped",
                    schedule=label,
                    cap=self._cap,
                    dropped_after_ms=tracked.last_ms,
                    dropped_before_ms=due.ticks[0],
                )
            due_ticks.extend((tick, label) for tick in due.ticks)
        if not due_ticks:
            return 0
        due_ticks.sort()
        await publish([tick_event(label, tick) for tick, label in due_ticks])
        for tick, label in due_ticks:
            self._tracked[label].last_ms = tick
        for label in {label for _, label in due_ticks}:
            self._store.set_source_state(state_key(label), str(self._tracked[label].last_ms))
        return len(due_ticks)
