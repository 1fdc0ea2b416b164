"""Delivering committed effects: messages to transports, emitted events to the journal.

At least once: an entry is marked done only after its send succeeded; a
failing send is retried with exponential backoff and never blocks a module.
A send that has failed ``max_attempts`` times, or is older than ``max_age``
(both per transport), moves to the dead letters, where it waits for an
operator (``cove outbox retry|drop``). Failures are counted per transport and
logged, at most one line per transport every ``LOG_INTERVAL_S``. A delivered
message of a module that subscribes to ``cove.message-sent`` is confirmed to it
by that event, journaled in the same transaction that marks the entry done.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._capabilities._identity_tx import SignedTransaction
from .._config_retention import OutboxSettings
from .._events import ALARM, MESSAGE_SENT, Custom, Event
from .._ratelimit import RateLimitedLog
from .._sources._base import Transport
from .._store._base import OutboxEntry, Store
from .._units import parse_duration_ms
from ..errors import HookBlockedError, StoreError
from ._approvals import HELD_PREFIX, approved
from ._commit import Committer
from ._hook_payloads import message_payload
from ._hooks import Hooks
from ._lifecycle import backoff_ms, wait_event

if TYPE_CHECKING:
    from .._observe._tracing import Tracing

# A message as the before-message hooks left it, or why they blocked it.
Hooked = dict[str, Any] | HookBlockedError

LOG_INTERVAL_S = 10.0


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        committer: Committer,
        transports: dict[str, Transport],
        on_journaled: asyncio.Event,
        now_ms: Callable[[], int],
        settings: OutboxSettings,
        log: Any,
        hooks: Hooks | None = None,
    ) -> None:
        self._settings = settings
        self._retry_initial_ms = parse_duration_ms(settings.retry_initial)
        self._retry_max_ms = parse_duration_ms(settings.retry_max)
        self._store = store
        self._committer = committer
        self._transports = transports
        self._on_journaled = on_journaled
        self._now_ms = now_ms
        self._hooks = hooks
        self.failure_log = RateLimitedLog(log.warning, LOG_INTERVAL_S)
        """Delivery failures, at most one line per transport per ``LOG_INTERVAL_S``."""
        self._wake = asyncio.Event()
        self.transactions: ApprovedTransactions = _NoChain()
        """Signs and sends approved transactions as their modules (set by the engine)."""
        self.confirms: Callable[[str], bool] = lambda module: False
        """Does this module take ``cove.message-sent`` confirmations? Set by the engine."""
        self.tracing: Tracing | None = None
        """Set by the engine when ``[tracing]`` is on: a span per delivery."""
        self._log = log
        self.delivered = 0
        self.vetoed = 0
        self.held = 0
        self.failures: Counter[str] = Counter()
        """Failed sends per transport name."""
        self.dead_lettered: Counter[str] = Counter()
        """Sends moved to the dead letters per transport name."""

    def kick(self) -> None:
        self._wake.set()

    async def retry_dead(self, ids: Sequence[int]) -> list[int]:
        """Queue dead letters again with no attempts; sent once the move is flushed."""
        moved = await asyncio.to_thread(self._store.retry_dead, ids)
        if moved:
            await self._committer.flush()  # a flush kicks this worker
        return moved

    async def drop_dead(self, ids: Sequence[int]) -> list[int]:
        """Delete dead letters for good; the ids that were found."""
        dropped = await asyncio.to_thread(self._store.drop_dead, ids)
        if dropped:
            await self._committer.flush()
        return dropped

    async def drain(self, seconds: float) -> None:
        """At shutdown: deliver what is due for up to ``seconds``, then flush the marks."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline and self._store.pending_effects(self._clock(), 1):
            self.kick()
            await asyncio.sleep(0.02)
        await self._committer.flush()

    def limits(self, transport: str) -> tuple[int, int]:
        """(max attempts, max age in ms) of a transport's sends."""
        settings = self._settings
        own = settings.transports.get(transport)
        attempts = settings.max_attempts
        age = settings.max_age
        if own is not None:
            attempts = own.max_attempts if own.max_attempts is not None else attempts
            age = own.max_age if own.max_age is not None else age
        return attempts, parse_duration_ms(age)

    async def run(self) -> None:
        while True:
            try:
                await self._round()
            except StoreError:
                # The store says why (``stopped``, readiness); delivery goes on once it is
                # back ([cluster] reopens it), the effects still in the outbox.
                await wait_event(self._wake, 1.0)

    async def _round(self) -> None:
        """Deliver one batch of due effects, or wait for some (woken, or every 0.5 s)."""
        self._wake.clear()
        batch = self._store.pending_effects(self._clock(), 200)
        hooked: dict[int, Hooked] = {}
        if self._hooks is not None and self._hooks.has("before-message"):
            # one thread hop for the whole batch, not one per message
            hooked = await asyncio.to_thread(_before_messages, self._hooks, batch, self._store)
        for entry in batch:
            if self.tracing is None:
                await self._deliver(entry, hooked.get(entry.id))
                continue
            with self.tracing.delivery(entry):
                await self._deliver(entry, hooked.get(entry.id))
        if batch:
            self._committer.committed(len(batch))
            return
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
            if self.tracing is not None:
                self.tracing.emitted(event.id)
            self._store.effect_done(entry.id, [event])
            self._on_journaled.set()
            self.delivered += 1
            return
        if entry.kind == "alarm":  # due: journaled for its module, done in one transaction
            event = Event(
                Custom(name=ALARM, source=entry.module, payload=entry.body), id=f"alarm:{entry.key}"
            )
            self._store.effect_done(entry.id, [event])
            self._on_journaled.set()
            self.delivered += 1
            return
        if "held" in body and not approved(self._store, entry.key):
            self._hold(entry, body)
            return
        if entry.kind == "transaction":
            await self._send_transaction(entry, body)
            return
        if isinstance(hooked, HookBlockedError):
            if hooked.vetoed:  # never sent; the hook's log line says why
                self._store.effect_done(entry.id)
                self.vetoed += 1
                return
            self._failed(entry, body["transport"], hooked)  # fail-closed: held until it works
            return
        if hooked is not None:
            body = hooked
        transport = self._transports.get(body["transport"])
        try:
            if transport is None:
                raise LookupError(f"no transport named {body['transport']!r} in this engine")
            await transport.send_from(
                entry.module,
                body["recipient"],
                body["body"],
                [tuple(m) for m in body["metadata"]],
                entry.key,
                created_ms=entry.created_ms,
            )
        except Exception as exc:  # any failure of a send is retried later, never fatal
            self._failed(entry, body["transport"], exc)
            return
        if self.confirms(entry.module):
            self._store.effect_done(entry.id, [_confirmation(entry, body)])
            self._on_journaled.set()
        else:
            self._store.effect_done(entry.id)
        self.delivered += 1

    def _hold(self, entry: OutboxEntry, body: dict[str, Any]) -> None:
        """Park a message that waits for approval with the dead letters (``cove approvals``)."""
        self._store.effect_dead(entry.id, f"{HELD_PREFIX}{body['held']}")
        self.held += 1
        self._log.info(
            f"outbox {entry.kind} held for approval",
            module=entry.module,
            key=entry.key,
            reason=body["held"],
        )

    async def _send_transaction(self, entry: OutboxEntry, body: dict[str, Any]) -> None:
        """An approved transaction: signed once, kept signed (durable) before its first
        send, then sent as it is on every retry: an answer lost after the node took it
        must not lead to a second transaction with the next nonce."""
        where = f"chain:{body['chain_id']}"
        mark = f"signed:{entry.key}"
        try:
            kept = self._store.source_state(mark)
            if kept is None:
                signed = await asyncio.to_thread(
                    self.transactions.sign, entry.module, body["chain_id"], body["tx"]
                )
                self._store.set_source_state(mark, signed.as_json())
                await self._committer.flush()
            else:
                signed = SignedTransaction.from_json(kept)
            tx_hash = await asyncio.to_thread(
                self.transactions.send, entry.module, body["chain_id"], signed
            )
        except Exception as exc:  # retried later or dead-lettered, never fatal
            self._failed(entry, where, exc)
            return
        self._store.effect_done(entry.id)
        self.delivered += 1
        self._log.info("approved transaction sent", module=entry.module, key=entry.key, tx=tx_hash)

    def _failed(self, entry: OutboxEntry, transport: str, exc: Exception) -> None:
        """Retry later, or give up: to the dead letters past the transport's limits."""
        self.failures[transport] += 1
        error = f"{type(exc).__name__}: {exc}"
        if self.tracing is not None:
            self.tracing.failed(error)
        now = self._clock()
        attempts = entry.attempts + 1
        max_attempts, max_age_ms = self.limits(transport)
        gave_up = ""
        if attempts >= max_attempts:
            gave_up = f"after {attempts} attempts (max_attempts {max_attempts})"
        elif entry.created_ms and now - entry.created_ms >= max_age_ms:
            gave_up = f"older than max_age ({max_age_ms} ms) after {attempts} attempts"
        if gave_up:
            self.dead_lettered[transport] += 1
            self._store.effect_dead(entry.id, f"{error} ({gave_up})")
            self.failure_log(
                f"dead:{transport}",
                "outbox message dead-lettered",
                module=entry.module,
                transport=transport,
                key=entry.key,
                error=error,
                reason=gave_up,
            )
            return
        delay = backoff_ms(attempts, self._retry_initial_ms, self._retry_max_ms)
        self._store.effect_retry(entry.id, now + delay, error)
        self.failure_log(
            f"failed:{transport}",
            "outbox delivery failed",
            module=entry.module,
            transport=transport,
            key=entry.key,
            attempt=attempts,
            retry_in_ms=delay,
            error=error,
        )


class ApprovedTransactions(Protocol):
    def sign(self, module: str, chain_id: int, tx_json: str) -> SignedTransaction: ...

    def send(self, module: str, chain_id: int, signed: SignedTransaction) -> str: ...


class _NoChain:
    def sign(self, module: str, chain_id: int, tx_json: str) -> SignedTransaction:
        raise LookupError("this engine sends no transactions")

    def send(self, module: str, chain_id: int, signed: SignedTransaction) -> str:
        raise LookupError("this engine sends no transactions")


def _confirmation(entry: OutboxEntry, message: dict[str, Any]) -> Event:
    """The ``cove.message-sent`` event of a delivered message; its id is stable per message."""
    event_id, _, index = entry.key.removeprefix(f"{entry.module}:").rpartition(":")
    payload = {
        "transport": message["transport"],
        "recipient": message["recipient"],
        "key": entry.key,
        "event_id": event_id,
        "index": int(index) if index.isdigit() else 0,
    }
    return Event(Custom(MESSAGE_SENT, entry.module, json.dumps(payload)), id=f"sent:{entry.key}")


def _before_messages(hooks: Hooks, batch: list[OutboxEntry], store: Store) -> dict[int, Hooked]:
    """Each message of the batch through the before-message chain (on a worker thread)."""
    out: dict[int, Hooked] = {}
    for entry in batch:
        if entry.kind != "message":
            continue
        body = json.loads(entry.body)
        if "held" in body and not approved(store, entry.key):
            continue  # parked, not sent: the hooks see it once approved
        try:
            out[entry.id] = hooks.run("before-message", message_payload(entry.module, body))
        except HookBlockedError as exc:
            out[entry.id] = exc
    return out
