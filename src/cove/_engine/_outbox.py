"""Delivering committed effects: messages to transports, emitted events to the journal.

At least once: an entry is marked done only after its send succeeded; a
failing send is retried with exponential backoff and never blocks a module.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from .._events import Custom, Event
from .._sources._base import Transport
from .._store._base import OutboxEntry, Store
from ..errors import HookBlockedError
from ._commit import Committer
from ._hook_payloads import message_payload
from ._hooks import Hooks
from ._lifecycle import backoff_ms, wait_event

# A message as the before-message hooks left it, or why they blocked it.
Hooked = dict[str, Any] | HookBlockedError


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        committer: Committer,
        transports: dict[str, Transport],
        on_journaled: asyncio.Event,
        now_ms: Callable[[], int],
        retry_initial_ms: int = 500,
        retry_max_ms: int = 300_000,
        hooks: Hooks | None = None,
    ) -> None:
        self._retry_initial_ms = retry_initial_ms
        self._retry_max_ms = retry_max_ms
        self._store = store
        self._committer = committer
        self._transports = transports
        self._on_journaled = on_journaled
        self._now_ms = now_ms
        self._hooks = hooks
        self._wake = asyncio.Event()
        self.delivered = 0
        self.failures = 0
        self.vetoed = 0

    def kick(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            batch = self._store.pending_effects(self._clock(), 200)
            hooked: dict[int, Hooked] = {}
            if self._hooks is not None and self._hooks.has("before-message"):
                # one thread hop for the whole batch, not one per message
                hooked = await asyncio.to_thread(_before_messages, self._hooks, batch)
            for entry in batch:
                await self._deliver(entry, hooked.get(entry.id))
            if batch:
                self._committer.committed(len(batch))
                continue
            await wait_event(self._wake, 0.5)

    def _clock(self) -> int:
        return self._now_ms()

    async def _deliver(self, entry: OutboxEntry, hooked: Hooked | None = None) -> None:
        """``hooked``: the message as the before-message hooks left it, or why they blocked it."""
        body = json.loads(entry.body)
        if entry.kind == "emit":
            event = Event(
                Custom(name=body["name"], source=entry.module, payload=body["payload"]),
                id=f"emit:{entry.key}",
            )
            self._store.effect_done(entry.id, [event])
            self._on_journaled.set()
            self.delivered += 1
            return
        if isinstance(hooked, HookBlockedError):
            if hooked.vetoed:  # never sent; the hook's log line says why
                self._store.effect_done(entry.id)
                self.vetoed += 1
                return
            self._retry(entry, hooked)  # fail-closed: held until the hook works again
            return
        if hooked is not None:
            body = hooked
        transport = self._transports.get(body["transport"])
        try:
            if transport is None:
                raise LookupError(f"no transport named {body['transport']!r} in this engine")
            await transport.send(
                body["recipient"], body["body"], [tuple(m) for m in body["metadata"]], entry.key
            )
        except Exception as exc:  # any failure of a send is retried later, never fatal
            self._retry(entry, exc)
            return
        self._store.effect_done(entry.id)
        self.delivered += 1

    def _retry(self, entry: OutboxEntry, exc: Exception) -> None:
        self.failures += 1
        delay = backoff_ms(entry.attempts + 1, self._retry_initial_ms, self._retry_max_ms)
        self._store.effect_retry(entry.id, self._clock() + delay, f"{type(exc).__name__}: {exc}")


def _before_messages(hooks: Hooks, batch: list[OutboxEntry]) -> dict[int, Hooked]:
    """Each message of the batch through the before-message chain (on a worker thread)."""
    out: dict[int, Hooked] = {}
    for entry in batch:
        if entry.kind != "message":
            continue
        try:
            out[entry.id] = hooks.run(
                "before-message", message_payload(entry.module, json.loads(entry.body))
            )
        except HookBlockedError as exc:
            out[entry.id] = exc
    return out
