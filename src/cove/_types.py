"""Seams shared across layers: Protocols, the null object of one, and the module status
the engine reports (the control plane reads it without importing the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


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


class ModuleState(StrEnum):
    """Where a module is in its lifecycle (docs/concepts.md draws the machine)."""

    COMPILING = "compiling"
    """Its component is being compiled at engine start (not loaded yet: no runner)."""
    LOADING = "loading"
    INITIALIZING = "initializing"
    RUNNING = "running"
    HIBERNATING = "hibernating"
    """Running, but idle past ``hibernate_after``: no instance until its next call wakes it."""
    DRAINING = "draining"
    """Running, but only the events journaled before ``cove module drain``; then unloaded."""
    BACKOFF = "backoff"
    DEAD = "dead"
    STOPPED = "stopped"
    UNLOADED = "unloaded"


@dataclass(frozen=True, slots=True)
class Drained:
    """How a drain ended: every event queued at the drain handled, or cut at the deadline."""

    module: str
    complete: bool
    """False when the deadline passed first."""
    left: int
    """Events of its subscriptions left in the journal, for the next load to handle."""


@dataclass(frozen=True, slots=True)
class ModuleStatus:
    """One module as the engine reports it (``Engine.status``): the control plane's view."""

    name: str
    version: str
    kind: str
    state: str
    handled: int
    failed: int
    restarts: int
    queue_depth: int
    last_error: str
    fuel: int = 0
    state_bytes: int = 0
    outbox_backlog: int = 0
    sha256: str = ""
    path: str = ""
    memory_high_water: int = 0
    """Bytes of wasm linear memory the module's instances reached (0 for native)."""
    failed_event_id: str = ""
    """The event of the module's last failure, when it was an event's ("" otherwise)."""
    skipped: int = 0
    """Events the operator had it skip."""
    outbox_attempts: int = 0
    """The most attempts any of its undelivered effects has had."""
    outbox_last_error: str = ""
    """Why its most recently failed undelivered effect failed."""
    outbox_next_retry_ms: int | None = None
    """When its earliest failed effect is tried again (Unix ms)."""
    dead_letters: int = 0
    """Its effects the outbox gave up on (``cove outbox list``)."""
    last_error_ms: int = 0
    """When its last failure happened (Unix ms; 0: never)."""
    last_error_event_id: str = ""
    """The event of its last failure ("" when init or a commit failed)."""
    last_ok_ms: int = 0
    """When an event or tool call of it last succeeded (Unix ms; 0: never)."""
    budgets: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per ``[budgets.<module>]`` budget: ``used``, ``limit``, ``window_ends_ms``."""
    engine: str = ""
    """``[cluster]``: the engine that runs it ("" without a cluster, or when none does)."""
    queue_depth_stale: bool = False
    """The journal's server could not be asked (NATS away): ``queue_depth`` is counted up to
    the newest entry this engine knew of, or is the last count."""


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What a loaded module is, beyond its status: its effective config and public identity."""

    config: dict[str, Any]
    """The manifest's [config] with the operator's overrides merged in."""
    address: str = ""
    """Its identity's address ("" without an identity)."""
    public_key: str = ""
    """Its identity's public key ("" without an identity); never the private key."""
    npub: str = ""
    """The same key as a Nostr identity (NIP-19 ``npub1…``; "" without an identity)."""
