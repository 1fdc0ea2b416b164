"""Seams shared across layers: Protocols, and the null object of one."""

from __future__ import annotations

from typing import Protocol


class StateReader(Protocol):
    """Committed (or group-commit pending) state of modules, read-only."""

    def get(self, module: str, key: str) -> bytes | None: ...

    def list_keys(self, module: str, prefix: str) -> list[str]: ...

    def state_bytes(self, module: str) -> int: ...


class EmptyState:
    """A state with nothing in it: for running a module outside the engine (checks, tests)."""

    def get(self, module: str, key: str) -> bytes | None:
        return None

    def list_keys(self, module: str, prefix: str) -> list[str]:
        return []

    def state_bytes(self, module: str) -> int:
        return 0
