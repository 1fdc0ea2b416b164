"""Held actions and the operator's decisions on them (``cove approvals``, ``/v1/approvals``).

Design note: a held message is parked with the dead letters (see
``_capabilities._autonomy``), so listing, durability and deletion are the
store's existing ones. Approving marks the message's idempotency key
approved (``approved:<key>`` in the store) and queues it again with that same
key, both in one store batch; the outbox then sends it like any message.
Either decision journals a ``cove.approval`` event for the module, whose id is
derived from the key, so deciding twice never tells the module twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._capabilities._chain import ChainBackend, RpcCall
from .._capabilities._identity import Identity
from .._capabilities._identity_tx import (
    Rpc,
    SignedTransaction,
    send_signed,
    sign_transaction,
)
from .._events import APPROVAL, Custom, Event
from .._store._base import DeadLetter, Store
from ..errors import HostCallError

HELD_PREFIX = "held for approval: "
"""How a held message's dead-letter error begins (``cove outbox list`` shows it too)."""

SCAN = 10_000
"""Most parked entries one list or decision reads (held ones sit among dead letters)."""


class ApprovedMarks(Protocol):
    def source_state(self, source: str) -> str | None: ...


def approved(store: ApprovedMarks, key: str) -> bool:
    """Has the operator approved the held effect with idempotency key ``key``?"""
    return store.source_state(f"approved:{key}") is not None


@dataclass(frozen=True, slots=True)
class HeldAction:
    id: int
    key: str
    module: str
    kind: str
    """``message`` or ``transaction``."""
    transport: str
    """A message's transport; ``chain:<id>`` for a transaction."""
    recipient: str
    body: str
    reason: str
    held_ms: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "module": self.module,
            "kind": self.kind,
            "transport": self.transport,
            "recipient": self.recipient,
            "body": self.body,
            "reason": self.reason,
            "held_ms": self.held_ms,
        }


def held_action(dead: DeadLetter) -> HeldAction | None:
    """The dead letter as a held action, or None when it is an ordinary dead letter."""
    if dead.body is None or not dead.last_error.startswith(HELD_PREFIX):
        return None
    body = json.loads(dead.body)
    if "held" not in body:
        return None
    if dead.kind == "transaction":
        to = str(json.loads(body["tx"]).get("to", ""))
        where, text = f"chain:{body['chain_id']}", body["tx"]
        return HeldAction(dead.id, dead.key, dead.module, dead.kind, where, to, text, body["held"], dead.dead_ms)  # fmt: skip
    return HeldAction(
        dead.id,
        dead.key,
        dead.module,
        dead.kind,
        body["transport"],
        body["recipient"],
        body["body"],
        body["held"],
        dead.dead_ms,
    )


Learn = Callable[[str, str, str], None]
"""(module, transport, recipient): an approved recipient needs no approval next time."""


class Approvals:
    """The engine's held actions: list them, approve or deny them."""

    def __init__(
        self,
        store: Store,
        publish: Callable[[Sequence[Event]], Awaitable[None]],
        kick: Callable[[], None],
        learn: Learn,
    ) -> None:
        self._store = store
        self._publish = publish
        self._kick = kick
        self._learn = learn
        self._lock = asyncio.Lock()

    def held(self, module: str | None = None, limit: int = 100) -> list[HeldAction]:
        """Held actions, oldest first."""
        found = (held_action(d) for d in self._store.dead_letters(module, SCAN, True))
        return [h for h in found if h is not None][:limit]

    async def decide(self, ids: Sequence[int], approve: bool) -> list[int]:
        """Approve (send) or deny (drop) the held actions ``ids``; the ids that were found.
        Each module is told by a ``cove.approval`` event."""
        async with self._lock:  # two operators deciding the same id: one wins
            wanted = set(ids)
            found = [h for h in await asyncio.to_thread(self.held, None, SCAN) if h.id in wanted]
            if not found:
                return []
            await asyncio.to_thread(self._apply, found, approve)
            await self._publish([_outcome(h, approve) for h in found])  # flushes both
            self._kick()
            return [h.id for h in found]

    def _apply(self, found: list[HeldAction], approve: bool) -> None:
        store = self._store
        ids = [h.id for h in found]
        if not approve:
            store.drop_dead(ids)
            return
        for h in found:
            store.set_source_state(f"approved:{h.key}", "1")
            if h.kind == "message":
                self._learn(h.module, h.transport, h.recipient)
        store.retry_dead(ids)


def sign_held_transaction(
    identity: Identity | None,
    chain: ChainBackend | None,
    methods: tuple[str, ...],
    chain_id: int,
    tx_json: str,
) -> SignedTransaction:
    """An approved transaction completed and signed as the module would have."""
    identity, rpc = _as_module(identity, chain, methods, chain_id)
    return sign_transaction(identity, chain_id, tx_json, rpc)


def send_held_transaction(
    identity: Identity | None,
    chain: ChainBackend | None,
    methods: tuple[str, ...],
    chain_id: int,
    signed: SignedTransaction,
) -> str:
    """Send (again) an approved transaction signed before; its hash."""
    identity, rpc = _as_module(identity, chain, methods, chain_id)
    return send_signed(identity.module, chain_id, signed, rpc)


def _as_module(
    identity: Identity | None, chain: ChainBackend | None, methods: tuple[str, ...], chain_id: int
) -> tuple[Identity, Rpc]:
    if identity is None or chain is None:
        raise LookupError("the module has no identity or the engine no chain backend now")

    def rpc(calls: list[RpcCall]) -> list[str | HostCallError]:
        return chain.request_batch(chain_id, calls, methods)

    return identity, rpc


def _outcome(held: HeldAction, approve: bool) -> Event:
    payload = {
        "id": held.id,
        "key": held.key,
        "approved": approve,
        "kind": held.kind,
        "transport": held.transport,
        "recipient": held.recipient,
    }
    return Event(Custom(APPROVAL, held.module, json.dumps(payload)), id=f"approval:{held.key}")


__all__ = [
    "HELD_PREFIX",
    "Approvals",
    "HeldAction",
    "approved",
    "send_held_transaction",
    "sign_held_transaction",
]
