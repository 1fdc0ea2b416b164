"""One module's worker: reads its events from the journal in order, runs them, commits.

Design note: there is no in-memory queue of events to lose. Each runner pulls
the events after its position from the journal (through the engine's recent
events cache), so a slow, backing-off or dead module only falls behind; the
sources and the other modules never wait for it. Queue depth is the distance
between the journal head and the runner's position.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .._capabilities._budgets import TokenBucket
from .._capabilities._calls import HostCallRecord, HostCalls, LogSink
from .._capabilities._chain import ChainBackend
from .._capabilities._effects import (
    EmittedEvent,
    EventEffects,
    OutboundMessage,
    ReadOnlyEffects,
)
from .._capabilities._http import HttpBackend
from .._hosts._base import HookOutcome
from .._manifest import Manifest
from .._store._base import JournalEntry, NewEffect, Store
from ..errors import HookBlockedError, ModuleFailedError
from ._commit import Committer
from ._hook_payloads import commit_payload
from ._hooks import Hooks
from ._lane import Lane
from ._lifecycle import ModuleState, backoff_ms, wait_event
from ._loader import LoadedModule
from ._matching import matches_any

if TYPE_CHECKING:
    from .._observe._tracing import Tracing

BATCH = 256
T = TypeVar("T")
EventReader = Callable[[int, int], list[JournalEntry]]


@dataclass
class ModuleStats:
    handled: int = 0
    failed: int = 0
    restarts: int = 0
    consecutive_failures: int = 0
    fuel_total: int = 0
    last_error: str = ""
    last_event_id: str = ""
    skipped: int = 0
    backoff_history_ms: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Trajectory:
    """The record of one event's handling; ``at_ms`` is when it ended (Unix ms)."""

    module: str
    event_id: str
    seq: int
    outcome: str
    error: str
    calls: tuple[HostCallRecord, ...]
    fuel: int
    wall_ns: int
    at_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)


class ModuleRunner:
    def __init__(
        self,
        loaded: LoadedModule,
        store: Store,
        committer: Committer,
        read_events: EventReader,
        http: HttpBackend | None,
        log_sink: LogSink,
        on_state: Callable[[str, ModuleState, str], None],
        on_trajectories: Callable[[str, list[Trajectory]], None] | None = None,
        chain: ChainBackend | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.manifest: Manifest = loaded.manifest
        self.grants = loaded.grants
        self.host = loaded.host
        self.hook_host = loaded.hook_host
        self.identity = loaded.identity
        self.name = self.manifest.name
        self._lane = Lane(f"cove-module-{self.name}")
        self.store = store
        self.committer = committer
        self._read = read_events
        self._http = http
        self._chain = chain
        self._hooks = hooks
        self._log_sink = log_sink
        self._on_state = on_state
        self._on_trajectories = on_trajectories
        self._recorded: list[Trajectory] = []
        self.state = ModuleState.LOADING
        self.stats = ModuleStats()
        self.position = store.cursor(self.name)
        self._wake = asyncio.Event()
        self.lock = threading.Lock()
        self._control = asyncio.Event()
        self._stopping = False
        self._attempt = 1
        self._failed: JournalEntry | None = None
        """The event of the module's last failure, when it was an event's (None after a
        success or an init or commit failure): what a skip passes over."""
        limits = self.grants.limits
        self._emit_rate = TokenBucket(limits.emit_rate, limits.emits)
        self._backoff_initial = limits.backoff_initial_ms
        self._backoff_max = limits.backoff_max_ms
        self.tracing: Tracing | None = None
        """Set by the engine when ``[tracing]`` is on."""

    # control --------------------------------------------------------------
    def notify(self) -> None:
        self._wake.set()

    def _set_state(self, state: ModuleState, detail: str = "") -> None:
        self.state = state
        self._on_state(self.name, state, detail)

    def revive(self) -> bool:
        if self.state != ModuleState.DEAD:
            return False
        self.stats.consecutive_failures = 0
        self.position = self.store.cursor(self.name)
        self._set_state(ModuleState.INITIALIZING, "revived by operator")
        self._wake.set()
        self._control.set()
        return True

    def skip_failed_event(self) -> str | None:
        """Move a dead module's cursor past the event it keeps failing on (the operator's
        way out of a poison event); its id, or None when not dead or nothing failed."""
        entry = self._failed
        if self.state != ModuleState.DEAD or entry is None:
            return None
        with self.lock:  # a tool call may be committing
            self.store.commit(self.name, entry.seq, {}, [(entry.event.id, [])])
            self.store.flush()
        self.position = entry.seq
        self._failed = None
        self.stats.skipped += 1
        self._attempt = 1  # the attempts were the skipped event's; the next is a first try
        reason = f"skipped by the operator; it had failed with: {self.stats.last_error}"
        self._log_sink(
            self.name, "warn", "event skipped", {"event_id": entry.event.id, "seq": str(entry.seq)}
        )
        if self._on_trajectories is not None:
            self._on_trajectories(
                self.name, [Trajectory(self.name, entry.event.id, entry.seq, "skipped", reason,
                                       (), 0, 0)],
            )  # fmt: skip
        return entry.event.id

    @property
    def failed_event_id(self) -> str:
        """The id of the event a skip would pass over ("" when none)."""
        return "" if self._failed is None else self._failed.event.id

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._control.set()

    def unavailable(self) -> str:
        """Why this module's hooks cannot run now ("" when they can)."""
        return f"module {self.name!r} is dead" if self.state == ModuleState.DEAD else ""

    def queue_depth(self, head: int) -> int:
        return max(0, head - self.position)

    def exclusive(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` (in a worker thread) while nothing else calls into the module's
        instance: events, init and tool calls take turns, never two at once."""
        with self.lock:
            return fn(*args)

    def commit_call(self, effects: EventEffects, call_id: str) -> None:
        """Commit one tool call's effects like an event's (call under ``exclusive``),
        durable before the caller hears of success: no journal entry would replay it."""
        self._commit(effects, [(call_id, _effects_to_outbox(effects))], self.position)
        if not self.committer.per_event:  # per-event commits are flushed already
            self.store.flush()

    def hook_call(self, point: str, payload_json: str) -> HookOutcome:
        """One call of this module's hook: read-only, like init (a hook changes nothing)."""
        assert self.hook_host is not None, "the module declares no [[hook]]"
        effects = ReadOnlyEffects(self.name, self.store, self.grants.limits.state_bytes)
        calls = self.host_calls(f"hook:{point}", effects)
        return self.hook_host.on_hook(point, payload_json, calls)

    def host_calls(self, event_id: str, effects: EventEffects) -> HostCalls:
        return HostCalls(
            grants=self.grants,
            effects=effects,
            config=dict(self.manifest.config),
            http=self._http,
            log_sink=self._log_sink,
            event_id=event_id,
            chain=self._chain,
            identity=self.identity,
            emit_rate=self._emit_rate,
        )

    # the loop ---------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            if self.state != ModuleState.UNLOADED:
                self._set_state(ModuleState.STOPPED)

    async def _loop(self) -> None:
        while not self._stopping:
            if self.state in (ModuleState.LOADING, ModuleState.INITIALIZING, ModuleState.BACKOFF):
                if not await self._initialize():
                    continue
            if self.state == ModuleState.DEAD:
                await self._sleep_until_woken()
                continue
            entries = [e for e in self._read(self.position, BATCH)]
            if not entries:
                await self._sleep_until_woken()
                continue
            last_seq = entries[-1].seq
            mine = [e for e in entries if matches_any(self.manifest.subscription, e.event)]
            if not mine:
                self.position = last_seq
                continue
            failure = await self._lane.run(self.exclusive, self._handle_batch, mine)
            if failure is None:
                # Skip past the events of this read that were not ours.
                self.position = max(self.position, last_seq)
            else:
                await self._fail(failure)

    async def _sleep_until_woken(self) -> None:
        self._wake.clear()
        await self._wake.wait()

    async def _initialize(self) -> bool:
        self._set_state(ModuleState.INITIALIZING)
        effects = ReadOnlyEffects(self.name, self.store, self.grants.limits.state_bytes)
        try:
            await self._lane.run(self.exclusive, self.host.init, self.host_calls("init", effects))
        except ModuleFailedError as exc:
            self._failed = None  # init failed: no event is to blame
            await self._fail(exc)
            return False
        self._set_state(ModuleState.RUNNING)
        return True

    async def _fail(self, exc: ModuleFailedError) -> None:
        stats = self.stats
        stats.failed += 1
        stats.consecutive_failures += 1
        stats.last_error = exc.reason
        self._attempt += 1
        if stats.consecutive_failures >= self.grants.limits.max_failures:
            self._set_state(
                ModuleState.DEAD,
                f"{stats.consecutive_failures} consecutive failures; last: {exc.reason}",
            )
            return
        delay = backoff_ms(stats.consecutive_failures, self._backoff_initial, self._backoff_max)
        stats.backoff_history_ms.append(delay)
        stats.restarts += 1
        self._set_state(ModuleState.BACKOFF, f"retry in {delay} ms after: {exc.reason}")
        # Only stop/revive cut a backoff short; new events must not.
        self._control.clear()
        if not self._stopping:
            await wait_event(self._control, delay / 1000)

    def _handle_batch(self, entries: list[JournalEntry]) -> ModuleFailedError | None:
        """Runs in a worker thread.

        Each event runs on its own overlay over the batch's overlay, so it sees
        the writes of the events before it, and a failing event drops only its
        own effects. The events that succeeded commit together in one store
        transaction (net writes, every event's effects, the cursor): fewer
        statements per event, and still all-or-nothing across a crash. In
        per-event commit mode every event commits (and fsyncs) on its own.
        """
        quota = self.grants.limits.state_bytes
        chunk = 1 if self.committer.per_event else len(entries)
        batch = EventEffects(self.name, self.store, quota)
        handled: list[tuple[str, list[NewEffect]]] = []
        last_seq = self.position
        failure: ModuleFailedError | None = None
        try:
            for entry in entries:
                effects = EventEffects(self.name, batch.as_reader(), quota)
                failure = self._handle_one(entry, effects)
                if failure is not None:
                    break
                batch.absorb(effects)
                handled.append((entry.event.id, _effects_to_outbox(effects)))
                last_seq = entry.seq
                if len(handled) >= chunk:
                    self._commit(batch, handled, last_seq)
                    batch = EventEffects(self.name, self.store, quota)
                    handled = []
            if handled:
                self._commit(batch, handled, last_seq)
        except HookBlockedError as exc:  # fail-closed before-commit: retried like a failure
            # The commit was refused, not an event: skipping the event that failed
            # after the refused ones would pass over them, never committed.
            self._failed = None
            return ModuleFailedError(self.name, str(exc))
        return failure

    def _commit(
        self, batch: EventEffects, handled: list[tuple[str, list[NewEffect]]], last_seq: int
    ) -> None:
        self._hand_over()
        hooks = self._hooks
        if hooks is not None and hooks.has("before-commit"):
            ids = [event_id for event_id, _ in handled]
            hooks.run("before-commit", commit_payload(self.name, last_seq, ids, batch))
        start = time.perf_counter_ns()
        self.store.commit(
            self.name,
            last_seq,
            batch.writes,
            handled,
            batch.state_bytes() if batch.writes else None,
        )
        if self.tracing is not None:
            self.tracing.commit(self.name, [event_id for event_id, _ in handled], start)
        self.position = last_seq
        self.committer.committed(len(handled))

    def _handle_one(self, entry: JournalEntry, effects: EventEffects) -> ModuleFailedError | None:
        event = entry.event
        calls = self.host_calls(event.id, effects)
        trace = None if self.tracing is None else self.tracing.event(self.name, entry)
        calls.trace = trace
        outcome, error = "ok", ""
        try:
            self.host.handle(event, self._attempt, calls)
        except ModuleFailedError as exc:
            outcome, error = "failed", exc.reason
            self._failed = entry
            return exc
        finally:
            self._record(entry, outcome, error, calls)
            if trace is not None:
                trace.finish(outcome, error, self.host.stats.fuel)
        self._failed = None
        self.stats.handled += 1
        self.stats.consecutive_failures = 0
        self.stats.last_event_id = event.id
        self._attempt = 1
        return None

    def _record(self, entry: JournalEntry, outcome: str, error: str, calls: HostCalls) -> None:
        fuel = self.host.stats.fuel
        self.stats.fuel_total += fuel
        if self._on_trajectories is not None:
            self._recorded.append(
                Trajectory(
                    self.name,
                    entry.event.id,
                    entry.seq,
                    outcome,
                    error,
                    tuple(calls.records),
                    fuel,
                    self.host.stats.wall_ns,
                )
            )
            if outcome != "ok":  # a failure ends the batch: nothing more comes to commit
                self._hand_over()

    def _hand_over(self) -> None:
        """Pass the records gathered since the last commit on, in one call per batch
        (a call per event cost the observability pipeline more than the event)."""
        if self._recorded and self._on_trajectories is not None:
            records, self._recorded = self._recorded, []
            try:
                self._on_trajectories(self.name, records)
            except Exception as exc:  # an observer's bug must not stop the module
                self._log_sink(
                    self.name, "error", f"trajectory observer failed: {type(exc).__name__}", {}
                )

    def close(self) -> None:
        try:
            if self.hook_host is not None and self.hook_host is not self.host:
                self.hook_host.close()
            with self.lock:  # a tool call may be running on the instance
                self.host.close()
        except Exception as exc:  # a plugin's shutdown hook must not stop the engine
            self._log_sink(self.name, "error", f"shutdown failed: {type(exc).__name__}: {exc}", {})
        finally:
            self._lane.close()


def _effects_to_outbox(effects: EventEffects) -> list[NewEffect]:
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
            out.append(NewEffect("message", json.dumps(body)))
        elif isinstance(effect, EmittedEvent):
            out.append(
                NewEffect("emit", json.dumps({"name": effect.name, "payload": effect.payload}))
            )
    return out


def now_ms() -> int:
    return time.time_ns() // 1_000_000


__all__ = ["ModuleRunner", "ModuleStats", "Trajectory", "now_ms"]
