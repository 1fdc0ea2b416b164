"""An event as one compact byte string: the ``handle`` argument of ``cove:host@0.2``.

Why bytes: a WIT variant of records (0.1's ``event``) is lifted into Python
objects field by field inside the guest on every event, read or not; a
``list<u8>`` crosses as one copy, and the SDK decodes the fields a handler
reads, when it reads them (bench/event_shapes.py has the figures).

Layout (little-endian): ``u8`` kind code (``KIND_CODES``), ``u32`` attempt,
``u64`` accepted-at-ms, the event id, then the payload's fields in WIT order.
A string or ``list<u8>`` is a ``u32`` length and its bytes (UTF-8 for
strings); ``u64``/``u32`` are fixed width; a bool or an enum is one ``u8``
(an enum by its case's index); a list is a ``u32`` count and its items; a
header is two strings. The SDK's decoder (``cove_sdk._event``) mirrors this.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook

KIND_CODES: dict[type, int] = {
    Block: 0,
    Log: 1,
    Tick: 2,
    Message: 3,
    Webhook: 4,
    Custom: 5,
    Lifecycle: 6,
}
LIFECYCLE_PHASES = ("started", "stopping", "reloaded")

_HEAD = struct.Struct("<BIQI")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U8 = struct.Struct("<B")


def _text(value: str) -> bytes:
    data = value.encode()
    return _U32.pack(len(data)) + data


def _blob(value: bytes) -> bytes:
    return _U32.pack(len(value)) + value


def _texts(values: tuple[str, ...]) -> bytes:
    return _U32.pack(len(values)) + b"".join(_text(v) for v in values)


def _headers(values: tuple[tuple[str, str], ...]) -> bytes:
    return _U32.pack(len(values)) + b"".join(_text(k) + _text(v) for k, v in values)


def _block(p: Block) -> bytes:
    return (
        struct.pack("<QQ", p.chain_id, p.number)
        + _text(p.hash)
        + _text(p.parent_hash)
        + _U64.pack(p.timestamp)
    )


def _log(p: Log) -> bytes:
    return (
        struct.pack("<QQ", p.chain_id, p.block_number)
        + _text(p.block_hash)
        + _text(p.transaction_hash)
        + _U32.pack(p.log_index)
        + _text(p.address)
        + _texts(p.topics)
        + _blob(p.data)
        + _U8.pack(p.removed)
    )


def _tick(p: Tick) -> bytes:
    return _text(p.schedule) + _U64.pack(p.scheduled_at_ms)


def _message(p: Message) -> bytes:
    return (
        _text(p.transport)
        + _text(p.sender)
        + _text(p.recipient)
        + _text(p.body)
        + _headers(p.metadata)
    )


def _webhook(p: Webhook) -> bytes:
    return _text(p.path) + _text(p.method) + _headers(p.headers) + _blob(p.body)


def _custom(p: Custom) -> bytes:
    return _text(p.name) + _text(p.source) + _text(p.payload)


def _lifecycle(p: Lifecycle) -> bytes:
    return _U8.pack(LIFECYCLE_PHASES.index(p.phase)) + _text(p.detail)


_PAYLOADS: dict[type, Callable[[Any], bytes]] = {
    Block: _block,
    Log: _log,
    Tick: _tick,
    Message: _message,
    Webhook: _webhook,
    Custom: _custom,
    Lifecycle: _lifecycle,
}


def encode_event(event: Event, attempt: int) -> bytes:
    """``event`` on its ``attempt``-th delivery, laid out as the module docstring says."""
    payload = event.payload
    kind = type(payload)
    ident = event.id.encode()
    head = _HEAD.pack(KIND_CODES[kind], attempt, event.accepted_at_ms, len(ident))
    return head + ident + _PAYLOADS[kind](payload)
