"""The one interface both hosts implement, so the engine never cares which it runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from .._capabilities._calls import HostCalls
from .._events import Event


@dataclass(slots=True)
class CallStats:
    """Cost of the last init/handle call, for metrics and trajectories."""

    fuel: int = 0
    wall_ns: int = 0


class ModuleHost(ABC):
    """A loaded module instance. Calls are synchronous; run them off the event loop."""

    name: str
    stats: CallStats

    @abstractmethod
    def init(self, calls: HostCalls) -> None:
        """Run the module's init; raises ``ModuleFailedError`` on failure."""

    @abstractmethod
    def handle(self, event: Event, attempt: int, calls: HostCalls) -> None:
        """Handle one event; raises ``ModuleFailedError`` (or a subclass) on failure."""

    def close(self) -> None:
        """Release resources; the default has none."""
