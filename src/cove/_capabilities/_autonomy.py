"""Graduated autonomy: which of a module's actions wait for the operator's approval.

Design note: a held message is an ordinary outbox effect marked ``held``; the
outbox parks it with the dead letters (kept aside until an operator acts)
rather than sending it, so it is as durable as any effect and keeps its
idempotency key. The recipients a module may reach without asking are the
ones it already sent to (or that the operator approved), kept in the store
and updated inside the commit's store batch, like ``Spending``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable

from ._spending import SourceState


def state_key(module: str) -> str:
    return f"recipients:{module}"


class Autonomy:
    """One module's thresholds: a message to a recipient it never sent to, a transaction
    above a value."""

    def __init__(
        self,
        module: str,
        store: SourceState,
        new_recipients: bool = True,
        value_above_wei: int | None = None,
    ) -> None:
        self.module = module
        self._new_recipients = new_recipients
        self._value_above = value_above_wei
        self._store = store
        self._lock = threading.Lock()
        raw = store.source_state(state_key(module))
        self._known: set[str] = set(json.loads(raw or "[]"))

    def holds(self, transport: str, recipient: str) -> str:
        """Why a message to ``recipient`` must wait for approval ("" when it need not)."""
        if not self._new_recipients or _address(transport, recipient) in self._known:
            return ""
        return f"first message to {recipient!r} on transport {transport!r}"

    def holds_value(self, value: int) -> str:
        """Why a transaction sending ``value`` wei must wait for approval ("" when not)."""
        if self._value_above is None or value <= self._value_above:
            return ""
        return f"transaction of {value} wei, above {self._value_above} wei"

    def learn(self, reached: Iterable[tuple[str, str]]) -> None:
        """(transport, recipient) pairs now reachable; call inside a store batch."""
        new = {_address(t, r) for t, r in reached} - self._known
        if not new:
            return
        with self._lock:
            self._known |= new
            self._store.set_source_state(state_key(self.module), json.dumps(sorted(self._known)))


def _address(transport: str, recipient: str) -> str:
    return f"{transport}\n{recipient}"


__all__ = ["Autonomy"]
