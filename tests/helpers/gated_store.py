"""A real SQLite store whose flush or WAL sync can be held at a gate, to test what goes on meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

from cove._store._sqlite import SqliteStore


class Gate:
    """While ``held`` is set, a call waits at the gate (``reached`` set) until ``release``."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.reached = threading.Event()
        self.release = threading.Event()
        self.passed = 0

    def pass_through(self) -> None:
        self.passed += 1
        if self.held.is_set():
            self.reached.set()
            assert self.release.wait(timeout=30), "the gate was never released"

    def open(self) -> None:
        self.held.clear()
        self.release.set()


class GatedStore(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.flush_gate = Gate()
        self.sync_gate = Gate()

    def flush(self) -> None:
        self.flush_gate.pass_through()
        super().flush()

    def _sync_wal(self) -> None:
        self.sync_gate.pass_through()
        super()._sync_wal()
