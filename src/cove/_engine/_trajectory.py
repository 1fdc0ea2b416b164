"""Trajectories: the record of one event's handling, gathered per batch and handed over once settled.

Design note: a batch's records are handed over only after its commit (or its
refusal), in one call per batch: a record handed over before the before-commit
hook could read "ok" for an event that never committed, and a call per event
cost the observability pipeline more than the event.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .._capabilities._call_record import HostCallRecord, LogSink


@dataclass(slots=True)
class Trajectory:
    """The record of one event's handling; ``at_ms`` is when it ended (Unix ms).

    Not ``frozen``, as ``HostCallRecord``: one is made for every event, and a
    frozen dataclass sets each field through ``object.__setattr__``, which cost
    ~2 µs an event on the native path; nothing changes a record once made
    (a refused batch's are replaced, not edited).
    """

    module: str
    event_id: str
    seq: int
    outcome: str
    error: str
    calls: tuple[HostCallRecord, ...]
    fuel: int
    wall_ns: int
    at_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)


TrajectorySink = Callable[[str, list[Trajectory]], None]
"""(module, records) -> None: the engine's side (metrics, the trajectory store, observers)."""


class Recorder:
    """One module's trajectories since its last commit; ``hand_over`` passes them on."""

    def __init__(self, module: str, sink: TrajectorySink | None, log_sink: LogSink) -> None:
        self.module = module
        self.enabled = sink is not None
        self._sink = sink
        self._log_sink = log_sink
        self._recorded: list[Trajectory] = []

    def add(self, trajectory: Trajectory) -> None:
        self._recorded.append(trajectory)

    def hand_over(self, not_committed: str = "") -> None:
        """Pass the records gathered since the last commit on; when the commit was
        refused (``not_committed`` says why), none of them is "ok"."""
        if self._recorded and self._sink is not None:
            records, self._recorded = self._recorded, []
            if not_committed:
                records = [_refused(t, not_committed) for t in records]
            try:
                self._sink(self.module, records)
            except Exception as exc:  # an observer's bug must not stop the module
                self._log_sink(
                    self.module, "error", f"trajectory observer failed: {type(exc).__name__}", {}
                )

    def send(self, trajectory: Trajectory) -> None:
        """One record on its own (an operator's skip), outside any batch."""
        if self._sink is not None:
            self._sink(self.module, [trajectory])


def _refused(trajectory: Trajectory, reason: str) -> Trajectory:
    if trajectory.outcome != "ok":
        return trajectory
    return dataclasses.replace(trajectory, outcome="failed", error=reason)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


__all__ = ["Recorder", "Trajectory", "TrajectorySink", "now_ms"]
