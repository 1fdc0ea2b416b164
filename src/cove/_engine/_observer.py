"""The observer bridge: engine events streamed to ``observer`` hooks, off the hot path.

Design note: the engine only puts a record on a bounded queue (no encoding,
no lock beyond the queue's own); one thread turns records into JSON and runs
the observer chain. When the queue is full the record is dropped and
counted, so a slow observer can lose events but never slows a module.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from ._hooks import Hooks
from ._runner import Trajectory

Record = Trajectory | dict[str, Any]
_STOP = object()


def trajectory_record(t: Trajectory) -> dict[str, Any]:
    return {
        "kind": "trajectory",
        "module": t.module,
        "event_id": t.event_id,
        "seq": t.seq,
        "outcome": t.outcome,
        "error": t.error,
        "fuel": t.fuel,
        "wall_ns": t.wall_ns,
        "calls": [
            {
                "interface": c.interface,
                "function": c.function,
                "summary": c.summary,
                "error": c.error,
                "duration_ns": c.duration_ns,
            }
            for c in t.calls
        ],
    }


class ObserverBridge:
    def __init__(self, hooks: Hooks, capacity: int) -> None:
        self._hooks = hooks
        self._queue: queue.Queue[object] = queue.Queue(capacity)
        self.dropped = 0
        self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="cove-observer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def active(self) -> bool:
        """True when some module observes; the engine builds nothing otherwise."""
        return self._hooks.has("observer")

    def put(self, record: Record) -> None:
        """Never blocks: a full queue drops the record and counts it."""
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def lifecycle(self, module: str, state: str, detail: str = "") -> None:
        if self.active:
            self.put({"kind": "lifecycle", "module": module, "state": state, "detail": detail})

    def engine(self, state: str) -> None:
        if self.active:
            self.put({"kind": "engine", "state": state})

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            if record is _STOP:
                return
            payload = trajectory_record(record) if isinstance(record, Trajectory) else record
            self._hooks.run("observer", payload)  # fail-open: failures are logged and skipped
            self.delivered += 1

    def close(self, timeout: float) -> None:
        """Deliver what is queued (up to ``timeout``), then end the thread."""
        if not self._thread.is_alive():
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)
