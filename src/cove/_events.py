"""Events: the inputs a module reacts to, as frozen dataclasses.

An ``Event`` pairs facts shared by every kind (a stable id, when it was
accepted) with one payload type per WIT ``event`` case.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Literal

from ._fast_record import fast_constructor

EventKind = Literal["block", "log", "tick", "message", "webhook", "custom", "lifecycle"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "block",
    "log",
    "tick",
    "message",
    "webhook",
    "custom",
    "lifecycle",
)


@dataclass(frozen=True, slots=True)
class Block:
    chain_id: int
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    confirmations: int = 0
    """Blocks on top when delivered: the subscription's depth (host-side only, not in WIT)."""


@dataclass(frozen=True, slots=True)
class Log:
    chain_id: int
    block_number: int
    block_hash: str
    transaction_hash: str
    log_index: int
    address: str
    topics: tuple[str, ...]
    data: bytes
    removed: bool = False
    confirmations: int = 0
    """As ``Block.confirmations``: which subscription depth this delivery is for."""


@dataclass(frozen=True, slots=True)
class Tick:
    schedule: str
    scheduled_at_ms: int


@dataclass(frozen=True, slots=True)
class Message:
    transport: str
    sender: str
    recipient: str
    body: str
    metadata: tuple[tuple[str, str], ...] = ()
    addressee: str = ""
    """Host-side: the one module this message is for (a transport that decrypted it for
    that module's key); empty: every module whose subscriptions match."""


@dataclass(frozen=True, slots=True)
class Webhook:
    path: str
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Custom:
    name: str
    source: str
    payload: str


APPROVAL = "cove.approval"
"""The custom event an operator's approval or denial of a held action journals (its
``source`` is the module that took the action, which alone receives it)."""

ALARM = "cove.alarm"
"""The custom event an alarm a module scheduled is delivered as (its ``source`` is that
module, which alone receives it; its payload is ``{"id": ..., "payload": ...}``)."""

MESSAGE_SENT = "cove.message-sent"
"""The custom event the outbox journals when a module's message was delivered (its
``source`` is that module, which alone receives it)."""


LifecyclePhase = Literal["started", "stopping", "reloaded"]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    phase: LifecyclePhase
    detail: str = ""


Payload = Block | Log | Tick | Message | Webhook | Custom | Lifecycle

_HOST_ONLY = frozenset({"confirmations", "addressee"})


def wit_fields(cls: type) -> tuple[str, ...]:
    """A payload's fields in WIT order, without the host-side ones the WIT record lacks."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in _HOST_ONLY)


_KIND_OF: dict[type, EventKind] = {
    Block: "block",
    Log: "log",
    Tick: "tick",
    Message: "message",
    Webhook: "webhook",
    Custom: "custom",
    Lifecycle: "lifecycle",
}


# A random per-process prefix plus a counter: unique across processes and
# restarts without paying for a uuid4 per event on the hot path.
_PROCESS_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count()


def new_event_id() -> str:
    """A globally unique id that sorts roughly by creation time."""
    return f"{time.time_ns() // 1_000_000:013x}-{_PROCESS_PREFIX}{next(_COUNTER):08x}"


@dataclass(frozen=True, slots=True)
class Event:
    """One event as the engine journals and delivers it."""

    payload: Payload
    id: str = field(default_factory=new_event_id)
    accepted_at_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    @property
    def kind(self) -> EventKind:
        return _KIND_OF[type(self.payload)]


# The chain source's hot path: a burst builds a Log and an Event per log.
new_block = fast_constructor(Block)
new_log = fast_constructor(Log)
new_event = fast_constructor(Event)
