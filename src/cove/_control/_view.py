"""What the control plane may read and ask of the engine, and nothing more.

Design note: the control plane is an outer adapter. It gets an ``EngineView``
(the ``Engine`` is one, structurally) instead of the engine's parts, so it
never reaches a runner, a committer or the outbox worker directly, and an
engine of another shape (one of several in a cluster, an engine behind a
proxy) serves the same API by answering these members. The layering test
keeps ``_control`` from importing ``_engine``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .._config import EngineConfig
from .._events import Event
from .._observe._metrics import LatencyHistograms
from .._observe._outbox_metrics import OutboxNumbers
from .._observe._trajectories import TrajectoryStore
from .._sources._base import Source, TransportCounts
from .._store._base import Store
from .._types import Drained, ModuleInfo, ModuleStatus


class ToolView(Protocol):
    """A tool as agents see it: ``<module>.<tool>``, what it does, its arguments' schema."""

    @property
    def name(self) -> str: ...

    @property
    def module(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def input_schema(self) -> dict[str, Any]: ...


class ToolCatalog(Protocol):
    """Every running module's tools: listed, called, and watched for changes."""

    def all(self) -> Sequence[ToolView]: ...

    def call(self, name: str, arguments: Any) -> Awaitable[str]: ...

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]: ...


class Named(Protocol):
    """A module the engine loaded (the control plane reads only its name)."""

    @property
    def name(self) -> str: ...


class EngineView(Protocol):
    @property
    def config(self) -> EngineConfig: ...

    @property
    def store(self) -> Store: ...

    @property
    def started(self) -> bool: ...

    @property
    def stopping(self) -> bool: ...

    @property
    def load_errors(self) -> dict[Path, str]:
        """Module paths refused, with why (the API pops the one it reports itself)."""
        ...

    @property
    def tools(self) -> ToolCatalog: ...

    @property
    def trajectories(self) -> TrajectoryStore | None: ...

    @property
    def sources(self) -> Sequence[Source]: ...

    @property
    def latency(self) -> LatencyHistograms: ...

    def status(self) -> list[ModuleStatus]: ...

    def source_health(self) -> dict[str, str | None]: ...

    def module_info(self, name: str) -> ModuleInfo | None: ...

    def load(self, path: Path) -> Awaitable[Named | None]: ...

    def unload(self, name: str) -> Awaitable[None]: ...

    def drain(self, name: str, deadline_seconds: float) -> Awaitable[Drained]: ...

    def reload(self, name: str) -> Awaitable[Named]: ...

    def restart(self, name: str) -> Awaitable[Named | None]: ...

    def revive(self, name: str) -> bool: ...

    def skip_failed_event(self, name: str) -> str | None: ...

    def subscribes(self, name: str, event: Event) -> bool: ...

    def publish(self, events: Sequence[Event]) -> Awaitable[None]: ...

    def hooks_report(self) -> dict[str, Any]: ...

    def gauges(self) -> dict[str, float]: ...

    def outbox_numbers(self) -> OutboxNumbers: ...

    def transport_counts(self) -> dict[str, TransportCounts]: ...

    def retry_dead(self, ids: Sequence[int]) -> Awaitable[list[int]]: ...

    def drop_dead(self, ids: Sequence[int]) -> Awaitable[list[int]]: ...

    def held_actions(self, module: str | None, limit: int) -> list[dict[str, Any]]: ...

    def decide(self, ids: Sequence[int], approve: bool) -> Awaitable[list[int]]: ...


__all__ = ["EngineView", "Named", "ToolCatalog", "ToolView"]
