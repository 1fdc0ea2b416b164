"""The one interface both hosts implement, so the engine never cares which it runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

from .._capabilities._calls import HostCalls
from .._events import Event
from ..errors import ModuleFailedError, ToolError


@dataclass(slots=True)
class CallStats:
    """Cost of the last init/handle call, for metrics and trajectories."""

    fuel: int = 0
    wall_ns: int = 0


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """A hook's answer: pass the payload on, replace it (``payload_json``), or veto it."""

    action: Literal["pass", "replace", "veto"]
    payload_json: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool a module serves; ``name`` is the module's own, without the module prefix."""

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)


class ModuleHost(ABC):
    """A loaded module instance. Calls are synchronous; run them off the event loop."""

    name: str
    stats: CallStats
    tools: tuple[ToolSpec, ...] = ()
    """The module's tools, as its last ``init`` reported them."""

    @abstractmethod
    def init(self, calls: HostCalls) -> None:
        """Run the module's init; raises ``ModuleFailedError`` on failure."""

    @abstractmethod
    def handle(self, event: Event, attempt: int, calls: HostCalls) -> None:
        """Handle one event; raises ``ModuleFailedError`` (or a subclass) on failure."""

    def on_hook(self, point: str, payload_json: str, calls: HostCalls) -> HookOutcome:
        """Run the module's hook at ``point``; raises ``ModuleFailedError`` on failure.

        Called from a hook thread, concurrently with ``handle``; ``calls`` is
        read-only (a hook may read state, never write or send).
        """
        raise ModuleFailedError(self.name, f"{point}: this module provides no hook handler")

    def migrate(self, from_version: str, calls: HostCalls) -> bool:
        """Migrate the state from ``from_version`` through ``calls`` (a writable overlay the
        caller commits as one transaction); raises ``ModuleFailedError`` on failure. False
        when the module has no migration, so its state is kept as it is."""
        return False

    def memory_high_water(self, sizes: dict[int, int]) -> int:
        """Bytes of wasm linear memory at most (``sizes`` from ``linear_memories()``)."""
        return 0

    def call_tool(self, name: str, arguments_json: str, calls: HostCalls) -> str:
        """Run one tool; the result as JSON text.

        Raises ``ToolError`` when the tool itself answered with an error (the
        instance stays usable) and ``ModuleFailedError`` (or a subclass) when
        the call trapped or hit a limit.
        """
        raise ToolError(name, "not-found", f"module {self.name!r} serves no tools")

    def interrupt(self) -> float:
        """The engine is stopping: cut the call in hand short and refuse later ones
        (``CallCancelledError``); called from another thread. Returns the seconds the
        call in hand surely still runs (a wait that cannot be cut; 0: it may end at
        once). The default cuts nothing: a native plugin runs trusted code in-process."""
        return 0.0

    def hibernate(self) -> bool:
        """Drop the running instance (its memory) until the next call rebuilds it; False
        when this host keeps its instance (a native plugin stays as it is)."""
        return False

    def close(self) -> None:
        """Release resources; the default has none."""
