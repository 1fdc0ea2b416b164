"""What a host call leaves behind: the record a trajectory shows, the span it is reported
to, and where a module's log lines go; kept apart from the gate so a trajectory or a span
reader needs none of the backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

LogSink = Callable[[str, str, str, dict[str, str]], None]
"""(module, level, message, fields) -> None"""


@dataclass(slots=True)
class HostCallRecord:
    """One host call as a trajectory shows it.

    Not ``frozen``: a frozen dataclass sets each field through
    ``object.__setattr__``, which made a record cost ~1 µs more per host call
    on the wasm fast path; nothing changes a record after the gate makes it.
    """

    interface: str
    function: str
    summary: str
    error: str | None
    duration_ns: int


class CallTrace(Protocol):
    """The span of an event or tool call (``_observe._tracing.SpanTrace``)."""

    def host_call(self, record: HostCallRecord, start_ns: int) -> None: ...
