"""Seams shared across layers (Protocols only; no behaviour)."""

from __future__ import annotations

from typing import Protocol


class StateReader(Protocol):
    """Committed (or group-commit pending) state of modules, read-only."""

    def get(self, module: str, key: str) -> bytes | None: ...

    def list_keys(self, module: str, prefix: str) -> list[str]: ...

    def state_bytes(self, module: str) -> int: ...
