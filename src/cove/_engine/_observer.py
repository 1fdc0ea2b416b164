"""The observer bridge: engine events streamed to ``observer`` hooks, off the hot path.

Design note: the engine only appends a record to a bounded deque (no
encoding, no lock, no wake-up); one thread wakes every ``INTERVAL``, turns
what is queued into JSON and runs the observer chain. Waking per record
would hand the GIL back and forth with the module threads for every event,
which cost more than the observing. When the queue is full the record is
dropped and counted, so a slow observer can lose events but never slows a
module.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from ._hooks import Hooks
from ._trajectory import Trajectory

Record = Trajectory | dict[str, Any]
INTERVAL = 0.05


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
        self._queue: deque[Record] = deque()
        self._capacity = capacity
        self._stop = threading.Event()
        self.dropped = 0
        self._drop_lock = threading.Lock()  # module threads drop at once; only drops take it
        self._thread = threading.Thread(target=self._run, name="cove-observer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def active(self) -> bool:
        """True when some module observes; the engine builds nothing otherwise."""
        return self._hooks.has("observer")

    @property
    def queued(self) -> int:
        return len(self._queue)

    def put(self, record: Record) -> None:
        """Never blocks: a full queue drops the record and counts it."""
        if len(self._queue) >= self._capacity:
            with self._drop_lock:  # += is not atomic across threads
                self.dropped += 1
            return
        self._queue.append(record)

    def lifecycle(self, module: str, state: str, detail: str = "") -> None:
        if self.active:
            self.put({"kind": "lifecycle", "module": module, "state": state, "detail": detail})

    def engine(self, state: str) -> None:
        if self.active:
            self.put({"kind": "engine", "state": state})

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL):
            self._drain()
        self._drain()

    def _drain(self) -> None:
        queued = self._queue
        while queued:
            record = queued.popleft()
            payload = trajectory_record(record) if isinstance(record, Trajectory) else record
            self._hooks.run("observer", payload)  # fail-open: failures are logged and skipped

    def close(self, timeout: float) -> None:
        """Deliver what is queued (up to ``timeout``), then end the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
