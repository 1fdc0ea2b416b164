"""Events to and from JSON text, for the journal and for fixtures.

Encoding is on the publish path of every event, so it is one ``orjson``
call (dataclasses and tuples are native to it; bytes go through its
``default`` hook as base64). The stdlib encoder stays as the fallback for
what orjson refuses (a lone surrogate, an integer past 64 bits): the text is
the same JSON either way. Decoding stays with the stdlib, because orjson
reads an integer past 64 bits as a float.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import orjson

from ._events import (
    _KIND_OF,
    Block,
    Custom,
    Event,
    Lifecycle,
    Log,
    Message,
    Payload,
    Tick,
    Webhook,
)

_CLASSES: dict[str, type[Any]] = {
    "block": Block,
    "log": Log,
    "tick": Tick,
    "message": Message,
    "webhook": Webhook,
    "custom": Custom,
    "lifecycle": Lifecycle,
}
_BYTES_FIELDS: dict[str, str] = {"log": "data", "webhook": "body"}
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _CLASSES.values()
}
_FIELD_SETS: dict[type, frozenset[str]] = {cls: frozenset(n) for cls, n in _FIELDS.items()}
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
    if not _FIELD_SETS[cls].issuperset(data):
        raise ValueError(f"{kind} event: unknown field(s) {sorted(set(data) - _FIELD_SETS[cls])}")
    kwargs = dict(data)
    for name, value in data.items():
        if isinstance(value, list):
            kwargs[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    binary = _BYTES_FIELDS.get(kind)
    if binary is not None and binary in kwargs:
        kwargs[binary] = base64.b64decode(kwargs[binary])
    try:
        return cls(**kwargs)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ValueError(f"{kind} event: {exc}") from None


def _bytes_as_base64(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot encode {type(value).__name__} in an event")


def event_to_json(event: Event) -> str:
    try:
        return orjson.dumps(
            {
                "id": event.id,
                "kind": event.kind,
                "accepted_at_ms": event.accepted_at_ms,
                "payload": event.payload,
            },
            default=_bytes_as_base64,
        ).decode()
    except TypeError:  # orjson.JSONEncodeError: what only the stdlib encoder takes
        return _ENCODER.encode(
            {
                "id": event.id,
                "kind": event.kind,
                "accepted_at_ms": event.accepted_at_ms,
                "payload": payload_to_dict(event.payload),
            }
        )


def journal_rows(events: Sequence[Event]) -> list[tuple[str, str, int]]:
    """Each event's journal row, (id, ``event_to_json`` text, accepted_at_ms), in order.

    The append makes one per published event, so ``event_to_json`` is inlined
    over the batch (~0.4 µs an event less); a batch with an event orjson
    refuses takes the per-event path, fallback included.
    """
    dumps, kinds = orjson.dumps, _KIND_OF
    try:
        return [
            (
                e.id,
                dumps(
                    {
                        "id": e.id,
                        "kind": kinds[type(e.payload)],
                        "accepted_at_ms": e.accepted_at_ms,
                        "payload": e.payload,
                    },
                    default=_bytes_as_base64,
                ).decode(),
                e.accepted_at_ms,
            )
            for e in events
        ]
    except TypeError:  # orjson.JSONEncodeError
        return [(e.id, event_to_json(e), e.accepted_at_ms) for e in events]


def event_from_json(text: str) -> Event:
    data = json.loads(text)
    return Event(
        payload=payload_from_dict(data["kind"], data["payload"]),
        id=data["id"],
        accepted_at_ms=data["accepted_at_ms"],
    )
