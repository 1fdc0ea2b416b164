"""What one event changes: a write overlay on the module's state plus its outbox.

Nothing here touches the durable store; the engine commits an ``EventEffects``
in one transaction, or drops it to roll the event back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._types import StateReader
from ..errors import HostCallError

_DELETED = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    transport: str
    recipient: str
    body: str
    metadata: tuple[tuple[str, str], ...] = ()
    held: str = ""
    """Why the message waits for an operator's approval ("" when it goes out as usual)."""


@dataclass(frozen=True, slots=True)
class EmittedEvent:
    name: str
    payload: str


@dataclass(frozen=True, slots=True)
class ScheduledAlarm:
    """An alarm set by the event: kept in the outbox until ``due_ms``, then journaled."""

    alarm_id: str
    due_ms: int
    payload: str


@dataclass(frozen=True, slots=True)
class HeldTransaction:
    """A transaction waiting for the operator's approval (``hold_value_above_wei``)."""

    chain_id: int
    tx_json: str
    held: str


Effect = OutboundMessage | EmittedEvent | HeldTransaction | ScheduledAlarm


def entry_size(key: str, value: bytes) -> int:
    return len(key.encode()) + len(value)


@dataclass(slots=True)
class EventEffects:
    """State writes (None = delete) and ordered outbound effects of one event (``slots``:
    one is made for every event, and a slotted one is made in about half the time)."""

    module: str
    reader: StateReader
    quota: int
    writes: dict[str, bytes | None] = field(default_factory=dict)
    outbox: list[Effect] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    """What the event spent of its module's budgets (``Spending``), counted at commit."""
    spent_before: dict[str, int] = field(default_factory=dict)
    """What the events before it in the same uncommitted batch spent (their ``usage``)."""
    _bytes: int | None = None
    _view: _OverlayReader | None = None

    def add_effect(self, effect: Effect) -> None:
        self.outbox.append(effect)

    def get(self, key: str) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.reader.get(self.module, key)

    def list_keys(self, prefix: str) -> list[str]:
        keys = set(self.reader.list_keys(self.module, prefix))
        for key, value in self.writes.items():
            if key.startswith(prefix):
                if value is _DELETED:
                    keys.discard(key)
                else:
                    keys.add(key)
        return sorted(keys)

    def set(self, key: str, value: bytes) -> None:
        # Every store.set comes here: the overlay is read once and the key
        # encoded only for a new entry (an old one's key size cancels out).
        writes = self.writes
        old = writes[key] if key in writes else self.reader.get(self.module, key)
        delta = len(value) - len(old) if old is not None else entry_size(key, value)
        total = (self._bytes if self._bytes is not None else self.state_bytes()) + delta
        if delta > 0 and total > self.quota:
            raise HostCallError(
                "limit-exceeded",
                f"store: writing {key!r} would bring module {self.module!r} to {total} bytes of "
                f"state, over its quota of {self.quota} bytes",
            )
        self.writes[key] = value
        self._bytes = total

    def delete(self, key: str) -> None:
        old = self.get(key)
        if old is not None:
            self._bytes = self.state_bytes() - entry_size(key, old)
        self.writes[key] = _DELETED

    def state_bytes(self) -> int:
        if self._bytes is None:
            self._bytes = self.reader.state_bytes(self.module)
        return self._bytes

    def absorb(self, other: EventEffects) -> None:
        """Take a later event's writes on top of ours and add its spending (its outbox stays
        its own)."""
        self.writes.update(other.writes)
        self._bytes = other.state_bytes()
        for name, amount in other.usage.items():
            self.usage[name] = self.usage.get(name, 0) + amount

    def as_reader(self) -> StateReader:
        """This overlay as the base of another one: a batch under its events (one view
        per overlay, however many events of the batch ask)."""
        if self._view is None:
            self._view = _OverlayReader(self)
        return self._view


class ReadOnlyEffects(EventEffects):
    """Init and hooks may read state but change nothing: init runs again after every
    restart, and neither has an event whose transaction could carry the changes."""

    def add_effect(self, effect: Effect) -> None:
        raise HostCallError(
            "denied", "messages and emitted events are not allowed in init or a hook"
        )

    def set(self, key: str, value: bytes) -> None:
        raise HostCallError("denied", "store: writes are not allowed in init or a hook")

    def delete(self, key: str) -> None:
        raise HostCallError("denied", "store: writes are not allowed in init or a hook")


class _OverlayReader:
    def __init__(self, effects: EventEffects) -> None:
        self._effects = effects

    def get(self, module: str, key: str) -> bytes | None:
        return self._effects.get(key)

    def list_keys(self, module: str, prefix: str) -> list[str]:
        return self._effects.list_keys(prefix)

    def state_bytes(self, module: str) -> int:
        return self._effects.state_bytes()
