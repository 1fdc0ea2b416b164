"""One-line descriptions of events for the ``cove run --mock`` transcript."""

from __future__ import annotations

from rich.markup import escape

from .._events import Block, Custom, Event, Lifecycle, Log, Message, Payload, Tick, Webhook

_LIMIT = 160


def _clip(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def describe_value(payload: Payload) -> str:
    match payload:
        case Custom():
            return _clip(f"{payload.name} {payload.payload}")
        case Message():
            return _clip(f"from {payload.sender} via {payload.transport}: {payload.body}")
        case Block():
            return f"#{payload.number} on chain {payload.chain_id} ({payload.hash[:10]}…)"
        case Log():
            topic = payload.topics[0][:10] + "…" if payload.topics else "no topics"
            return f"{payload.address} {topic} in block {payload.block_number}"
        case Tick():
            return f"{payload.schedule!r}"
        case Webhook():
            return _clip(f"{payload.method} {payload.path} ({len(payload.body)} bytes)")
        case Lifecycle():
            return f"{payload.phase} {payload.detail}".strip()
    raise AssertionError(payload)


def describe_event(event: Event) -> str:
    return f"[bold]{event.kind}[/] {escape(describe_value(event.payload))}"
