"""One module's lifecycle: its state, its failures in a row, backoff, dead, revive and skip.

Design note: the runner's loop asks the supervisor what to do next and tells
it what happened (``succeeded`` after a commit, ``fail`` after a failure);
every state change goes through ``set_state``, so a new state (a draining
module, a module being swapped for its new version) is added here and in
``ModuleState`` without touching the loop's reading and batching.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from .._capabilities._grants import Limits
from .._store._base import JournalEntry
from ..errors import LimitExceededError, ModuleFailedError
from ._lifecycle import ModuleState, backoff_ms, wait_event
from ._trajectory import now_ms

_STORE_RETRY_MS = 1_000
_STORE_RETRY_MAX_MS = 30_000

HEAVY_LIMITS = frozenset({"memory", "fuel", "deadline"})
"""Limits whose failure cost a whole attempt of CPU (and a rebuilt instance), and that
fail alike when retried at once: each counts two backoff steps (the delay grows 4x)."""

OnState = Callable[[str, ModuleState, str], None]
"""(module, new state, detail) -> None: the engine's side (logs, observers, tools, hooks)."""


@dataclass
class ModuleStats:
    handled: int = 0
    failed: int = 0
    restarts: int = 0
    consecutive_failures: int = 0
    fuel_total: int = 0
    last_error: str = ""
    last_error_ms: int = 0
    """When the last failure happened (Unix ms; 0: never)."""
    last_error_event_id: str = ""
    """The event of the last failure ("" when init or a commit failed)."""
    last_ok_ms: int = 0
    """When an event or tool call last succeeded (Unix ms; 0: never)."""
    last_event_id: str = ""
    skipped: int = 0
    backoff_history_ms: list[int] = field(default_factory=list)


class Supervisor:
    """One module's state machine and counters; the runner's loop drives it."""

    def __init__(self, name: str, limits: Limits, on_state: OnState) -> None:
        self.name = name
        self.state = ModuleState.LOADING
        self.stats = ModuleStats()
        self.stopping = False
        self.drain_until: int | None = None
        """While draining: the journal head when the drain began (later events wait)."""
        self.cut = False
        """The drain's deadline passed: stop between two events, not after the batch."""
        self.attempt = 1
        """The attempt number of the next event handed to the module (1: a first try)."""
        self.failed: JournalEntry | None = None
        """The event of the module's last failure, when it was an event's (None after a
        success or an init or commit failure): what a skip passes over."""
        self._on_state = on_state
        self._control = asyncio.Event()
        self._max_failures = limits.max_failures
        self._backoff_initial = limits.backoff_initial_ms
        self._backoff_max = limits.backoff_max_ms
        self._store_failures = 0
        self._steps = 0
        """Backoff steps of the current failure streak (two for a ``HEAVY_LIMITS`` one)."""

    def set_state(self, state: ModuleState, detail: str = "") -> None:
        if state == ModuleState.RUNNING and self.drain_until is not None:
            state = ModuleState.DRAINING  # a drained module that recovers still only drains
        self.state = state
        self._on_state(self.name, state, detail)

    @property
    def failed_event_id(self) -> str:
        """The id of the event a skip would pass over ("" when none)."""
        return "" if self.failed is None else self.failed.event.id

    def unavailable(self) -> str:
        """Why this module's hooks cannot run now ("" when they can)."""
        return f"module {self.name!r} is dead" if self.state == ModuleState.DEAD else ""

    def succeeded(self, count: int, last_event_id: str) -> None:
        """After a commit, not before: events whose commit a hook refused did not succeed."""
        self.failed = None
        self.stats.handled += count
        self.stats.last_ok_ms = now_ms()
        self.stats.consecutive_failures = 0
        self.stats.last_event_id = last_event_id
        self.attempt = 1
        self._store_failures = 0
        self._steps = 0

    async def fail(self, exc: ModuleFailedError) -> None:
        """Count a failure: dead past ``max_failures``, else back off (cut short only by
        stop or revive, never by new events)."""
        stats = self.stats
        stats.failed += 1
        stats.consecutive_failures += 1
        stats.last_error = exc.reason
        stats.last_error_ms = now_ms()
        stats.last_error_event_id = self.failed_event_id
        self.attempt += 1
        if stats.consecutive_failures >= self._max_failures:
            self.set_state(
                ModuleState.DEAD,
                f"{stats.consecutive_failures} consecutive failures; last: {exc.reason}",
            )
            return
        heavy = isinstance(exc, LimitExceededError) and exc.limit in HEAVY_LIMITS
        self._steps += 2 if heavy else 1
        delay = backoff_ms(self._steps, self._backoff_initial, self._backoff_max)
        stats.backoff_history_ms.append(delay)
        stats.restarts += 1
        self.set_state(ModuleState.BACKOFF, f"retry in {delay} ms after: {exc.reason}")
        self._control.clear()
        if not self.stopping:
            await wait_event(self._control, delay / 1000)

    async def store_failed(self, reason: str) -> None:
        """The store refused a read or a commit (locked by another process, disk full):
        not the module's doing, so it never counts towards dead. Shown as the last error,
        retried after a backoff of its own (1 s doubling to 30 s)."""
        stats = self.stats
        stats.last_error = reason
        stats.last_error_ms = now_ms()
        stats.last_error_event_id = ""
        self._store_failures += 1
        delay = backoff_ms(self._store_failures, _STORE_RETRY_MS, _STORE_RETRY_MAX_MS)
        self.set_state(ModuleState.BACKOFF, f"store error; retry in {delay} ms: {reason}")
        self._control.clear()
        if not self.stopping:
            await wait_event(self._control, delay / 1000)
        if not self.stopping:
            self.set_state(ModuleState.RUNNING)

    def refused(self, reason: str) -> None:
        """A reload's candidate was refused: shown as the last error; the state is unchanged."""
        self.stats.last_error = reason
        self.stats.last_error_ms = now_ms()
        self.stats.last_error_event_id = ""

    def revive(self) -> bool:
        if self.state != ModuleState.DEAD:
            return False
        self.stats.consecutive_failures = 0
        self._steps = 0
        self.set_state(ModuleState.INITIALIZING, "revived by operator")
        self._control.set()
        return True

    def skipped(self) -> None:
        """The operator passed the failed event over: the attempts were its own."""
        self.failed = None
        self.stats.skipped += 1
        self.attempt = 1

    def drain(self, until: int) -> None:
        """Take only the events up to journal seq ``until``; the rest wait for a later load."""
        self.drain_until = until
        if self.state in (ModuleState.RUNNING, ModuleState.HIBERNATING):
            self.set_state(ModuleState.DRAINING, f"draining up to journal seq {until}")

    def cut_drain(self) -> None:
        """The deadline passed: finish the event in hand, leave the rest in the journal."""
        self.cut = True
        self.stop()

    def stop(self) -> None:
        self.stopping = True
        self._control.set()


__all__ = ["ModuleStats", "OnState", "Supervisor"]
