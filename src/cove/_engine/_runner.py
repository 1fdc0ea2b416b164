"""One module's worker: reads its events from the journal in order and hands them on in batches.

Design note: there is no in-memory queue of events to lose. Each runner pulls
the events after its position from the journal (through the engine's recent
events cache), so a slow, backing-off or dead module only falls behind; the
sources and the other modules never wait for it. Queue depth is the distance
between the journal head and the runner's position.

The runner's one job is that loop. Its parts each have one of their own:
``Supervisor`` (state, backoff, dead, revive, skip), ``ModuleInstance`` (the
hosts and the ``HostCalls`` each call gets, swappable between two batches),
``BatchHandler`` (a read's events on the instance), ``ModuleCommits`` (every
commit: events, tool calls, skips) and ``Recorder`` (trajectories).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._capabilities._autonomy import Autonomy
from .._capabilities._budgets import TokenBucket
from .._capabilities._call_record import LogSink
from .._capabilities._calls import HostCalls
from .._capabilities._chain import ChainBackend
from .._capabilities._effects import EventEffects
from .._capabilities._grants import Grants
from .._capabilities._http import HttpBackend
from .._capabilities._spending import Spending
from .._hosts._base import HookOutcome, ModuleHost
from .._manifest import Manifest
from .._store._base import JournalEntry, Store
from ..errors import CallCancelledError, FencedError, ModuleFailedError, StoreError
from ._backlog import Backlog
from ._batch import BatchHandler, BatchResult
from ._commit import Committer
from ._hooks import Hooks
from ._instance import ModuleInstance
from ._lane import Lane
from ._lifecycle import ModuleState, wait_event
from ._loader import LoadedModule
from ._migrate import migrate_and_init
from ._module_commit import ModuleCommits
from ._supervisor import ModuleStats, OnState, Supervisor
from ._trajectory import Recorder, Trajectory, TrajectorySink
from ._trim import heap_trim

if TYPE_CHECKING:
    from .._observe._tracing import Tracing

BATCH = 256
FAILING_NICENESS = 10
"""How many OS niceness steps lower a module's attempts run while it is in a failure
streak (docs/security.md, Supervision): the neighbours get the shared cores first."""
T = TypeVar("T")
EventReader = Callable[[int, int], list[JournalEntry]]


class ModuleRunner:
    """One module's loop over the journal; its parts do the rest (see the module docstring)."""

    def __init__(
        self,
        loaded: LoadedModule,
        store: Store,
        committer: Committer,
        read_events: EventReader,
        http: HttpBackend | None,
        log_sink: LogSink,
        on_state: OnState,
        on_trajectories: TrajectorySink | None = None,
        chain: ChainBackend | None = None,
        hooks: Hooks | None = None,
        spending: Spending | None = None,
        autonomy: Autonomy | None = None,
        hibernate_after_ms: int | None = None,
        init_slots: asyncio.Semaphore | None = None,
        retry_store_errors: bool = True,
    ) -> None:
        self.name = loaded.manifest.name
        self._retry_store_errors = retry_store_errors
        """False under ``[cluster]``: a store error ends the runner, and placement loads
        the module afresh (its connection is reopened there)."""
        self._reread_cursor = False
        self.hibernate_after_ms = hibernate_after_ms
        """Idle this long, the instance is dropped (``hibernating``); None: never."""
        self._active = time.monotonic()
        self._init_slots = init_slots
        """Shared by the engine's runners: how many inits run at once (10,000 modules
        starting together each got a sliver of the cores and missed their deadline)."""
        limits = loaded.grants.limits
        emit_rate = TokenBucket(limits.emit_rate, limits.emits)
        self.instance = ModuleInstance(
            loaded, store, http, chain, log_sink, emit_rate, spending, autonomy
        )
        self.spending = spending
        self.autonomy = autonomy
        self.store = store
        self.supervisor = Supervisor(self.name, limits, on_state)
        self.recorder = Recorder(self.name, on_trajectories, log_sink)
        self.commits = ModuleCommits(
            self.name, store, committer, hooks, self.recorder, spending, autonomy
        )
        self._batches = BatchHandler(self.name, store, self.supervisor, self.commits, self.recorder)
        self._read = read_events
        self._backlog = Backlog(loaded.manifest.subscription, read_events, loaded.manifest.name)
        self._log_sink = log_sink
        self._lane = Lane(f"cove-module-{self.name}")
        self.position = store.cursor(self.name)
        self._wake = asyncio.Event()
        self._away = False
        """The last read of the journal failed (``_journal_away``)."""
        self._parked = False
        """Caught up and waiting, not notified since: every entry journaled meanwhile was
        someone else's (see ``notify``)."""
        self.lock = threading.Lock()

    # what the engine, the tools and the control plane read -------------------
    @property
    def manifest(self) -> Manifest:
        return self.instance.manifest

    @property
    def grants(self) -> Grants:
        return self.instance.grants

    @property
    def host(self) -> ModuleHost:
        return self.instance.host

    @property
    def state(self) -> ModuleState:
        return self.supervisor.state

    @property
    def stats(self) -> ModuleStats:
        return self.supervisor.stats

    @property
    def failed_event_id(self) -> str:
        """The id of the event a skip would pass over ("" when none)."""
        return self.supervisor.failed_event_id

    def queue_depth(self, head: int, passed: int | None = None) -> int:
        """The events it subscribes to after its position, or after ``passed`` when the
        engine knows it has passed more (a quiet module: nothing to read for it)."""
        return self._backlog.depth(self.position if passed is None else passed, head)

    @property
    def last_queue_depth(self) -> int:
        """The queue depth as last counted (the journal could not be read to count it now)."""
        return self._backlog.counted

    def trace(self, tracing: Tracing | None) -> None:
        """Spans for this module's events and commits (``[tracing]``; None: off)."""
        self._batches.tracing = self.commits.tracing = tracing

    def unavailable(self) -> str:
        """Why this module's hooks cannot run now ("" when they can)."""
        return self.supervisor.unavailable()

    @property
    def parked(self) -> bool:
        """Caught up and waiting, not notified since."""
        return self._parked

    # control ----------------------------------------------------------------
    def notify(self, passed: int | None = None) -> None:
        """Wake the loop. ``passed``: the engine found none of the entries up to that seq
        to be this module's, so a module parked since it caught up skips straight there
        (a module asleep for a million others' events does not read them all on wake)."""
        if self._parked and passed is not None:
            self.position = max(self.position, passed)
        self._parked = False
        self._wake.set()

    def revive(self) -> bool:
        if not self.supervisor.revive():
            return False
        self.position = self.store.cursor(self.name)
        self._wake.set()
        return True

    def skip_failed_event(self) -> str | None:
        """Move a dead module's cursor past the event it keeps failing on (the operator's
        way out of a poison event); its id, or None when not dead or nothing failed."""
        supervisor = self.supervisor
        entry = supervisor.failed
        if supervisor.state != ModuleState.DEAD or entry is None:
            return None
        with self.lock:  # a tool call may be committing
            self.commits.skip(entry)
        self.position = entry.seq
        reason = f"skipped by the operator; it had failed with: {supervisor.stats.last_error}"
        supervisor.skipped()
        self._log_sink(
            self.name, "warn", "event skipped", {"event_id": entry.event.id, "seq": str(entry.seq)}
        )
        self.recorder.send(
            Trajectory(self.name, entry.event.id, entry.seq, "skipped", reason, (), 0, 0)
        )
        return entry.event.id

    def stop(self) -> None:
        self.supervisor.stop()
        self._wake.set()

    def interrupt(self) -> float:
        """The engine is stopping: start no more events and cut the guest call in hand
        (its event is not committed, so the next start handles it again). Returns the
        seconds that call surely still runs (``ModuleHost.interrupt``)."""
        self.supervisor.cut_drain()
        self._wake.set()
        hook_host = self.instance.hook_host
        if hook_host is not None and hook_host is not self.instance.host:
            hook_host.interrupt()
        return self.instance.host.interrupt()

    def swap(
        self, candidate: ModuleInstance, prepare: Callable[[], object] | None = None
    ) -> ModuleInstance:
        """Put ``candidate`` in place between two batches or tool calls (it takes the lock
        they hold); the old instance is returned for the caller to close. ``prepare`` runs
        under the lock first (a state migration); when it raises, nothing is swapped."""
        with self.lock:
            if prepare is not None:
                prepare()
            old, self.instance = self.instance, candidate
            self._backlog = Backlog(
                candidate.manifest.subscription, self._read, candidate.manifest.name
            )
        return old

    def retire(self, old: ModuleInstance) -> None:
        """Close a swapped-out version: its shutdown failing is logged, the swap stands."""
        try:
            old.close()
        except Exception as exc:  # a plugin's shutdown hook must not undo a reload
            self._log_sink(
                self.name,
                "error",
                f"old version's shutdown failed: {type(exc).__name__}: {exc}",
                {},
            )

    def drain(self, until: int) -> None:
        """Handle the events up to journal seq ``until``, then end the loop (``run`` returns)."""
        self.supervisor.drain(until)
        self._wake.set()

    def exclusive(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` (in a worker thread) while nothing else calls into the module's
        instance: events, init and tool calls take turns, never two at once. Each is
        activity: the idle time before hibernation counts from its end."""
        with self.lock:
            self._active = time.monotonic()
            try:
                return fn(*args)
            finally:
                self._active = time.monotonic()

    def wake(self, why: str) -> None:
        """On the event loop, before a call into a hibernating module: shown ``running``
        again (the call itself instantiates it, and runs init first)."""
        self._active = time.monotonic()
        if self.supervisor.state == ModuleState.HIBERNATING:
            self.supervisor.set_state(ModuleState.RUNNING, f"woken by {why}")
            self._wake.set()  # the loop counts the idle time again from now

    def commit_call(self, effects: EventEffects, call_id: str) -> None:
        """Commit one tool call's effects like an event's (call under ``exclusive``)."""
        self.commits.call(effects, call_id, self.position)

    def hook_call(self, point: str, payload_json: str) -> HookOutcome:
        self._active = time.monotonic()  # a hook thread's call delays hibernation too
        return self.instance.hook_call(point, payload_json)

    def host_calls(self, call_id: str, effects: EventEffects) -> HostCalls:
        return self.instance.host_calls(call_id, effects)

    # the loop ---------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._loop()
        except FencedError as exc:
            # Another engine holds the module now ([cluster]): stop at once, commit nothing.
            self._log_sink(self.name, "warn", "fenced: the module stops here", {"error": str(exc)})
        finally:
            if self.state != ModuleState.UNLOADED:
                self.supervisor.set_state(ModuleState.STOPPED)

    async def _loop(self) -> None:
        while not self.supervisor.stopping:
            try:
                if not await self._step():
                    return
            except StoreError as exc:
                if isinstance(exc, FencedError) or not self._retry_store_errors:
                    raise
                # Nothing of the batch stands past the cursor the store keeps: read from it.
                self._reread_cursor = True
                self._log_sink(self.name, "error", "store error; retrying", {"error": str(exc)})
                await self.supervisor.store_failed(str(exc))

    async def _step(self) -> bool:
        """One read and the handling of its events; False when the runner is to end."""
        supervisor = self.supervisor
        if self._reread_cursor:
            self.position = self.store.cursor(self.name)
            self._reread_cursor = False
        if supervisor.state in (
            ModuleState.LOADING,
            ModuleState.INITIALIZING,
            ModuleState.BACKOFF,
        ):
            if not await self._initialize():
                return True
        if supervisor.state == ModuleState.DEAD:
            await self._sleep_until_woken()
            return True
        try:
            entries = self._read(self.position, BATCH)
        except StoreError as exc:
            if isinstance(exc, FencedError) or self.store.stopped() is not None:
                raise
            await self._journal_away(exc)
            return True
        if self._away:
            self._away = False
            self._log_sink(self.name, "info", "journal reachable again", {})
        until = supervisor.drain_until
        if until is not None:
            entries = [e for e in entries if e.seq <= until]
            if not entries:  # everything queued at the drain is handled
                return False
        if not entries:
            await self._idle()
            return True
        last_seq = entries[-1].seq
        mine = self.instance.matches.select(entries)
        if not mine:
            self.position = last_seq
            return True
        self.wake("an event")
        result = await self._lane.run(self.exclusive, self._handle, mine)
        self.position = result.position
        if isinstance(result.failure, CallCancelledError):
            return False  # stopping: the event stays in the journal, no failure counted
        if result.failure is not None:
            self._lane.lower(FAILING_NICENESS)
            await supervisor.fail(result.failure)
            return True
        self._lane.restore()
        if not supervisor.cut:
            # Skip past the events of this read that were not ours (a drain cut at
            # its deadline left some of ours unhandled: the position stays).
            self.position = max(self.position, last_seq)
        return True

    def _handle(self, entries: list[JournalEntry]) -> BatchResult:
        """On the module's worker thread, under the lock: the instance is read here, so
        one swapped in between two batches takes the next one."""
        return self._batches.run(self.instance, entries, self.position)

    async def _journal_away(self, exc: StoreError) -> None:
        """The journal cannot be read for now (its NATS server restarts, a connection
        dropped) and nothing was lost: keep the module and its lease, read again when woken
        or in half a second (said once per outage)."""
        if not self._away:
            self._away = True
            self._log_sink(self.name, "warn", "journal unreachable: waiting", {"error": str(exc)})
        self._wake.clear()
        await wait_event(self._wake, 0.5)

    async def _sleep_until_woken(self) -> None:
        self._wake.clear()
        await self._wake.wait()

    async def _idle(self) -> None:
        """Wait for the next event, caught up (``_parked``); past ``hibernate_after`` of
        no activity, hibernate (the instance goes, its state and cursor stay)."""
        self._parked = True
        try:
            await self._wait_or_hibernate()
        finally:
            self._parked = False

    async def _wait_or_hibernate(self) -> None:
        after = self.hibernate_after_ms
        if after is None or self.supervisor.state != ModuleState.RUNNING:
            await self._sleep_until_woken()
            return
        self._wake.clear()
        while (left := self._active + after / 1000 - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), left)
                return
            except TimeoutError:
                continue
        idle_since = await self._lane.run(self._hibernate, after)
        if idle_since is not None and idle_since == self._active:  # no call woke it since
            self.supervisor.set_state(ModuleState.HIBERNATING, f"idle for {after} ms")
            self._lane.park()
            heap_trim.request()
        await self._wake.wait()

    def _hibernate(self, after: int) -> float | None:
        """Under the lock: a call that came in meanwhile keeps it awake. The activity
        stamp it hibernated at, or None when it did not."""
        with self.lock:
            since = self._active
            if time.monotonic() - since < after / 1000 or not self.instance.hibernate():
                return None
            return since

    async def _initialize(self) -> bool:
        supervisor = self.supervisor
        supervisor.set_state(ModuleState.INITIALIZING)
        try:
            if self._init_slots is None:
                await self._lane.run(self.exclusive, self._migrate_and_init)
            else:
                async with self._init_slots:
                    await self._lane.run(self.exclusive, self._migrate_and_init)
        except CallCancelledError:
            return False  # stopping
        except ModuleFailedError as exc:
            supervisor.failed = None  # init failed: no event is to blame
            self._lane.lower(FAILING_NICENESS)
            await supervisor.fail(exc)
            return False
        supervisor.set_state(ModuleState.RUNNING)
        return True

    def _migrate_and_init(self) -> None:
        if migrate_and_init(self.instance, self.store):
            self._log_sink(
                self.name, "info", "state migrated", {"to": self.manifest.module.version}
            )

    def close(self, grace: float = -1) -> None:
        """Close the hosts once no call is on them; ``grace``: seconds to wait for that
        (negative: for good). A call still running past it (a guest sleep the stop could
        not cut) is left to end on its own thread and its host unclosed, logged."""
        try:
            self.instance.close_hooks()
            if not self.lock.acquire(timeout=grace):  # a tool call may be on the instance
                self._log_sink(
                    self.name,
                    "warn",
                    "a guest call outlived the stop's grace; left to end on its own "
                    "(nothing of it is committed)",
                    {"grace_s": f"{grace:g}"},
                )
                return
            try:
                self.instance.host.close()
            finally:
                self.lock.release()
        except Exception as exc:  # a plugin's shutdown hook must not stop the engine
            self._log_sink(self.name, "error", f"shutdown failed: {type(exc).__name__}: {exc}", {})
        finally:
            self._lane.close()


__all__ = ["ModuleRunner"]
