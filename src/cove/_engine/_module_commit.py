"""Every commit of one module goes through here: a batch of events, a tool call's effects,
an operator's skip.

Design note: a commit is one ``Store.commit`` (net writes, each event's
effects, the cursor; all or nothing), so a second store backend implements
that one method and the engine does not change. Order matters: the
before-commit hook first (it may refuse), then the store, then the committer
(which alone knows the commit mode and decides when it is flushed), and only
then are the batch's trajectories handed over, so a refused batch never
leaves "ok" records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._capabilities._autonomy import Autonomy
from .._capabilities._effects import (
    EmittedEvent,
    EventEffects,
    HeldTransaction,
    OutboundMessage,
    ScheduledAlarm,
)
from .._capabilities._spending import Spending
from .._store._base import JournalEntry, NewEffect, Store
from ..errors import HookBlockedError, StoreError
from ._commit import Committer
from ._hook_payloads import commit_payload
from ._hooks import Hooks
from ._trajectory import Recorder

if TYPE_CHECKING:
    from .._observe._tracing import Tracing

Handled = list[tuple[str, Sequence[NewEffect]]]
"""Each committed event's (or call's) id and its outbox entries, in order."""


class ModuleCommits:
    """The one way a module's work becomes durable state, outbox entries and cursor."""

    def __init__(
        self,
        module: str,
        store: Store,
        committer: Committer,
        hooks: Hooks | None,
        recorder: Recorder,
        spending: Spending | None = None,
        autonomy: Autonomy | None = None,
    ) -> None:
        self.module = module
        self._spending = spending
        self._autonomy = autonomy
        self._store = store
        self._committer = committer
        self._hooks = hooks
        self._recorder = recorder
        self.tracing: Tracing | None = None
        """Set through ``ModuleRunner.trace`` when ``[tracing]`` is on."""

    def events_per_commit(self, batch: int) -> int:
        return self._committer.events_per_commit(batch)

    def events(self, batch: EventEffects, handled: Handled, last_seq: int) -> None:
        """Commit a batch of handled events; raises ``HookBlockedError`` when a
        fail-closed before-commit hook refuses it (its trajectories then read failed)."""
        try:
            self._before_commit(batch, handled, last_seq)
        except HookBlockedError as exc:
            self._recorder.hand_over(f"not committed: {exc}")
            raise
        try:
            self._write(batch, handled, last_seq)
        except StoreError as exc:  # handled again once the store takes writes
            self._recorder.hand_over(f"not committed: {exc}")
            raise
        self._committer.committed(len(handled))
        self._recorder.hand_over()

    def call(self, effects: EventEffects, call_id: str, position: int) -> None:
        """Commit one tool call's effects, durable before the caller hears of success:
        no journal entry would replay it. The cursor stays at ``position``."""
        handled = [(call_id, effects_to_outbox(effects))]
        self._before_commit(effects, handled, position)
        self._write(effects, handled, position)
        self._committer.committed(1, durable=True)

    def skip(self, entry: JournalEntry) -> None:
        """Mark ``entry`` handled with no effects, durably (an operator's skip)."""
        self._store.commit(self.module, entry.seq, {}, [(entry.event.id, [])])
        self._committer.committed(0, durable=True)

    def _before_commit(self, batch: EventEffects, handled: Handled, last_seq: int) -> None:
        hooks = self._hooks
        if hooks is not None and hooks.has("before-commit"):
            ids = [event_id for event_id, _ in handled]
            hooks.run("before-commit", commit_payload(self.module, last_seq, ids, batch))

    def _write(self, batch: EventEffects, handled: Handled, last_seq: int) -> None:
        start = time.perf_counter_ns()
        self._store.commit(
            self.module,
            last_seq,
            batch.writes,
            handled,
            batch.state_bytes() if batch.writes else None,
        )
        if self._spending is not None:  # in the commit's store batch: durable with it
            self._spending.commit(batch.usage)
        if self._autonomy is not None:
            self._autonomy.learn(_reached(handled))
        if self.tracing is not None:
            self.tracing.commit(self.module, [event_id for event_id, _ in handled], start)


_NO_EFFECTS: tuple[NewEffect, ...] = ()


def effects_to_outbox(effects: EventEffects) -> Sequence[NewEffect]:
    """The event's outbox entries, in order (one shared empty tuple for the many events
    that have none: no list made per event)."""
    if not effects.outbox:
        return _NO_EFFECTS
    out: list[NewEffect] = []
    for effect in effects.outbox:
        body: dict[str, Any]
        if isinstance(effect, OutboundMessage):
            body = {
                "transport": effect.transport,
                "recipient": effect.recipient,
                "body": effect.body,
                "metadata": [list(m) for m in effect.metadata],
            }
            if effect.held:
                body["held"] = effect.held
            out.append(NewEffect("message", json.dumps(body)))
        elif isinstance(effect, HeldTransaction):
            body = {"chain_id": effect.chain_id, "tx": effect.tx_json, "held": effect.held}
            out.append(NewEffect("transaction", json.dumps(body)))
        elif isinstance(effect, ScheduledAlarm):
            body = {"id": effect.alarm_id, "payload": effect.payload}
            out.append(NewEffect("alarm", json.dumps(body), effect.due_ms))
        elif isinstance(effect, EmittedEvent):
            out.append(
                NewEffect("emit", json.dumps({"name": effect.name, "payload": effect.payload}))
            )
    return out


def _reached(handled: Handled) -> list[tuple[str, str]]:
    """The (transport, recipient) of every message committed to go out unheld."""
    reached = []
    for _, effects in handled:
        for effect in effects:
            if effect.kind == "message":
                body = json.loads(effect.body)
                if "held" not in body:
                    reached.append((body["transport"], body["recipient"]))
    return reached


__all__ = ["Handled", "ModuleCommits", "effects_to_outbox"]
