"""Events to and from JSON text, for the journal and for fixtures."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from ._events import Block, Custom, Event, Lifecycle, Log, Message, Payload, Tick, Webhook

_CLASSES: dict[str, type[Any]] = {
    "block": Block,
    "log": Log,
    "tick": Tick,
    "message": Message,
    "webhook": Webhook,
    "custom": Custom,
    "lifecycle": Lifecycle,
}
_BYTES_FIELDS = frozenset({"data", "body"})
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _CLASSES.values()
}
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def payload_to_dict(payload: Payload) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS[type(payload)]:
        value = getattr(payload, name)
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[name] = value
    return out


def payload_from_dict(kind: str, data: dict[str, Any]) -> Payload:
    cls = _CLASSES.get(kind)
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {sorted(_CLASSES)}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise ValueError(f"{kind} event: unknown field(s) {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name in _BYTES_FIELDS and kind in ("log", "webhook"):
            value = base64.b64decode(value)
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[name] = value
    try:
        return cls(**kwargs)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ValueError(f"{kind} event: {exc}") from None


def event_to_json(event: Event) -> str:
    return _ENCODER.encode(
        {
            "id": event.id,
            "kind": event.kind,
            "accepted_at_ms": event.accepted_at_ms,
            "payload": payload_to_dict(event.payload),
        }
    )


def event_from_json(text: str) -> Event:
    data = json.loads(text)
    return Event(
        payload=payload_from_dict(data["kind"], data["payload"]),
        id=data["id"],
        accepted_at_ms=data["accepted_at_ms"],
    )
