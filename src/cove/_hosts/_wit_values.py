"""Conversion between cove's Python values and wasmtime-py component values.

wasmtime-py represents a record as an object whose attributes carry the WIT
field names (kebab-case), a variant whose cases it cannot tell apart by
Python type as ``Variant(tag, payload)``, and any other variant/option/result
as the bare payload. The WIT package is shaped so every value cove sends has
one unambiguous form (see the note at the top of ``wit/host.wit``).
"""

from __future__ import annotations

from typing import Any

from wasmtime.component import Record, Variant

from .._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook, wit_fields
from ..errors import HostCallError

_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {
    cls: wit_fields(cls) for cls in (Block, Log, Tick, Message, Webhook, Custom, Lifecycle)
}


def record(**fields: Any) -> Record:
    """A WIT record; ``snake_case`` keyword names become kebab-case fields."""
    out = Record()
    for name, value in fields.items():
        setattr(out, name.replace("_", "-"), value)
    return out


def field(value: Record, name: str) -> Any:
    return getattr(value, name)


def host_error(exc: HostCallError) -> Record:
    return record(kind=exc.kind, message=exc.message)


def event_meta(event: Event, attempt: int) -> Record:
    return record(id=event.id, accepted_at_ms=event.accepted_at_ms, attempt=attempt)


def event_value(event: Event) -> Variant:
    payload = event.payload
    fields = {}
    for name in _PAYLOAD_FIELDS[type(payload)]:
        value = getattr(payload, name)
        # Every WIT list field is a tuple on the frozen Python side.
        fields[name] = list(value) if isinstance(value, tuple) else value
    return Variant(event.kind, record(**fields))
