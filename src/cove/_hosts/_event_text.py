"""An event as one string: the ``handle`` argument of ``cove:host@0.3``.

Why text: a ``string`` crosses wasmtime's C API in one copy, while 0.2's
``list<u8>`` crosses as one val per byte (~2 µs for a 100-byte event,
bench/event_shapes.py); the layout keeps 0.2's laziness, so the SDK still
decodes only the fields a handler reads.

Layout: one digit, the kind code (``KIND_CODES``), then items. An item is
its length in characters, ``:``, and that many characters. After the kind:
attempt, accepted-at-ms, the event id, then the payload's fields in WIT
order. A number, bool (``0``/``1``) or enum (its case's index) is one item
in decimal; a ``list<u8>`` is one item of its bytes as latin-1 characters;
a list is an item holding its count, then its items; a header is two items.
The SDK's decoder (``cove_sdk._event``) mirrors this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook
from ._event_bytes import KIND_CODES, LIFECYCLE_PHASES

_KINDS = {kind: str(code) for kind, code in KIND_CODES.items()}


def _t(value: str) -> str:
    return f"{len(value)}:{value}"


def _n(value: int) -> str:
    return _t(str(value))


def _texts(values: tuple[str, ...]) -> str:
    return _n(len(values)) + "".join(map(_t, values))


def _headers(values: tuple[tuple[str, str], ...]) -> str:
    return _n(len(values)) + "".join(_t(k) + _t(v) for k, v in values)


def _block(p: Block) -> str:
    return _n(p.chain_id) + _n(p.number) + _t(p.hash) + _t(p.parent_hash) + _n(p.timestamp)


def _log(p: Log) -> str:
    return (
        _n(p.chain_id)
        + _n(p.block_number)
        + _t(p.block_hash)
        + _t(p.transaction_hash)
        + _n(p.log_index)
        + _t(p.address)
        + _texts(p.topics)
        + _t(p.data.decode("latin-1"))
        + _n(int(p.removed))
    )


def _message(p: Message) -> str:
    return _t(p.transport) + _t(p.sender) + _t(p.recipient) + _t(p.body) + _headers(p.metadata)


def _webhook(p: Webhook) -> str:
    return _t(p.path) + _t(p.method) + _headers(p.headers) + _t(p.body.decode("latin-1"))


def _custom(p: Custom) -> str:
    # One f-string: the kind on the hot path of custom events and ticks pays no helper calls.
    name, source, payload = p.name, p.source, p.payload
    return f"{len(name)}:{name}{len(source)}:{source}{len(payload)}:{payload}"


def _tick(p: Tick) -> str:
    schedule, due = p.schedule, str(p.scheduled_at_ms)
    return f"{len(schedule)}:{schedule}{len(due)}:{due}"


_PAYLOADS: dict[type, Callable[[Any], str]] = {
    Block: _block,
    Log: _log,
    Tick: _tick,
    Message: _message,
    Webhook: _webhook,
    Custom: _custom,
    Lifecycle: lambda p: _n(LIFECYCLE_PHASES.index(p.phase)) + _t(p.detail),
}


def encode_event_text(event: Event, attempt: int) -> str:
    """``event`` on its ``attempt``-th delivery, laid out as the module docstring says."""
    payload = event.payload
    kind = type(payload)
    # The head in one f-string, as ``_custom`` does: every event pays it (5 calls less).
    n, at, id_ = str(attempt), str(event.accepted_at_ms), event.id
    head = f"{_KINDS[kind]}{len(n)}:{n}{len(at)}:{at}{len(id_)}:{id_}"
    return head + _PAYLOADS[kind](payload)
