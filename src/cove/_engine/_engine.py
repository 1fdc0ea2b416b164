"""The engine: wires store, hosts, runners, sources, transports and the outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .._capabilities._chain import ChainBackend
from .._capabilities._http import HttpBackend
from .._config import EngineConfig
from .._config_hooks import HookPoint
from .._config_tracing import TracingSettings
from .._events import MESSAGE_SENT, Custom, Event, Lifecycle
from .._hosts._linear_memory import linear_memories
from .._hosts._wasm_runtime import Progress, WasmRuntime
from .._manifest import (
    Manifest,
    load_manifest,
)
from .._observe._logging import engine_logger, module_log
from .._observe._metrics import LatencyHistograms
from .._observe._outbox_metrics import OutboxNumbers
from .._observe._trajectories import TrajectoryStore
from .._registry._follower import follower_for
from .._sources._base import Source, Transport, TransportCounts
from .._sources._clock import Clock
from .._store._base import JournalEntry, Store
from .._supply._component import resolver_for
from .._types import Drained, ModuleInfo, ModuleStatus
from .._units import parse_duration_ms
from ..errors import CoveError, HookBlockedError, ModuleError
from ._approvals import Approvals
from ._compiling import Compiling
from ._drain import drain
from ._first_inits import first_inits
from ._hook_payloads import loaded_payload
from ._hooks import Hooks, hooks_of
from ._lifecycle import ModuleState
from ._loader import LoadedModule, build_host
from ._matching import matches_any
from ._module_sources import module_sources
from ._observer import ObserverBridge
from ._open_store import open_store
from ._operator_limits import OperatorLimits
from ._outbox import OutboxWorker
from ._parts import committer_for, trajectory_store
from ._recent import RecentJournal
from ._reload import reload
from ._retention import RetentionWorker
from ._runner import ModuleRunner
from ._status import (
    compiling_status,
    engine_gauges,
    hooks_report,
    runner_status,
    source_health,
)
from ._tools import ToolRegistry
from ._trajectory import Trajectory, now_ms
from ._wake_index import WakeIndex
from ._watch import ModuleWatcher

if TYPE_CHECKING:
    from .._observe._tracing import Tracing
    from ._placement import Placement

RECENT_EVENTS = 20_000
FIRST_INIT_WAIT_S = 60.0
"""Longest ``start()`` waits for the modules' first init (see ``_first_inits``)."""


class Engine:
    """One engine process. ``await start()``, feed it with ``publish``, ``await stop()``."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        transports: Sequence[Transport] = (),
        sources: Sequence[Source] = (),
        progress: Progress | None = None,
        on_trajectory: Callable[[Trajectory], None] | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        http_transport: httpx.BaseTransport | None = None,
        chain_transport: httpx.BaseTransport | None = None,
        poll_chains: bool = True,
    ) -> None:
        """``transports`` and ``sources`` are every one the engine runs (the composition
        root, ``cove._app``, adds the ones the config's [webhook] and [[transports]]
        declare); ``chain_transport`` answers the [[chains]] endpoints instead of the
        network; with ``poll_chains`` off no block/log source starts (``cove run
        --mock`` feeds blocks and logs from its fixture)."""
        self.config = config
        self.log = engine_logger()
        self.transports = {t.name: t for t in transports}
        self.sources = list(sources)
        self.clock = clock
        self._http_transport = http_transport
        self._chain_transport = chain_transport
        self.poll_chains = poll_chains
        self._progress = progress
        self._on_trajectory = on_trajectory
        self._store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self.runners: dict[str, ModuleRunner] = {}
        self._init_slots = asyncio.Semaphore(2 * (os.cpu_count() or 1))
        """Module inits at once: more only share the cores and miss their deadlines."""
        self._wake_index = WakeIndex()
        """Which runners an append wakes (``_wake_index.py``)."""
        self._last_seen = 0
        """The last seq an append of this engine's passed the wake index with."""
        self._unseen_upto = 0
        """Entries up to here may not have passed the index (journaled by another engine,
        or by the outbox: emitted events, alarms): a parked module below it skips none."""
        self.load_errors: dict[Path, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._runner_tasks: dict[str, asyncio.Task[None]] = {}
        self._recent = RecentJournal(RECENT_EVENTS)
        self._journaled = asyncio.Event()
        self._started = False
        self._settled = asyncio.Event()  # a module's state changed (see _first_inits)
        self.compiling: Compiling | None = None
        self.placement: Placement | None = None
        """``[cluster]``: which modules this engine runs (the others run elsewhere)."""
        self.watcher: ModuleWatcher | None = None
        self.stopping = False
        self.trajectories: TrajectoryStore | None = None
        self.latency = LatencyHistograms()
        self.tracing: Tracing | None = None
        self.final_status: list[ModuleStatus] = []
        self.hooks = Hooks(config.hooks, self.log.warning)
        self.observer = ObserverBridge(self.hooks, config.hooks.observer_queue)
        self.tools = ToolRegistry(
            self.runners, self._trajectory, self.log.warning, self.hooks.after_tool_result
        )

    @property
    def started(self) -> bool:
        return self._started

    @property
    def store(self) -> Store:
        assert self._store is not None, "engine not started"
        return self._store

    # startup ----------------------------------------------------------------
    async def start(self, serve: Callable[[], Awaitable[None]] | None = None) -> None:
        """``serve`` is awaited once the store and the workers are up, before modules
        compile: the composition root starts the control plane there, so health, the
        API and /mcp answer while modules compile (status shows them ``compiling``)."""
        config = self.config
        self._loop = asyncio.get_running_loop()
        if self._store is None:
            self._store = open_store(config)
        self.trajectories = trajectory_store(config)
        self.runtime = WasmRuntime(config.cache_path, parse_duration_ms(config.wasm.epoch_tick))
        self.http = HttpBackend(config.http, self._http_transport)
        self.chain = ChainBackend(config.chains, self._chain_transport) if config.chains else None
        self.committer = committer_for(config, self.store)
        self.committer.bind()
        self.outbox = OutboxWorker(
            self.store,
            self.committer,
            self.transports,
            self._journaled,
            now_ms,
            config.outbox,
            self.log,
            self.hooks,
        )
        self.outbox.confirms = self._confirms
        self._limits = OperatorLimits(
            config.budgets, self.store, self.runners, self.chain, self._budget_exhausted
        )
        self.outbox.transactions = self._limits
        self.approvals = Approvals(self.store, self.publish, self.outbox.kick, self._limits.reached)
        self.committer.on_flush(self.outbox.kick)
        if config.tracing is not None:
            self._start_tracing(config.tracing)
        self.retention = RetentionWorker(
            self.store, self.committer, config.retention, self._retention_floor, now_ms
        )
        self.spawn(self.committer.run(), "committer")
        self.spawn(self._dispatch_emitted(), "bus")
        self.observer.start()
        if serve is not None:
            await serve()
        paths = config.module_paths()
        registry = None
        if self.poll_chains:
            recorder = None if self.chain is None else self.chain.recorder
            registry = follower_for(config, self.store, self, recorder)
        if registry is not None:
            paths = registry.substitute(paths)  # what the registry applied, not re-applied
        self.compiling = Compiling(self.runtime, resolver_for(config), self._progress)
        await self.compiling.compile_all(paths)
        if config.cluster is not None:
            from ._cluster import placement_for  # psycopg: imported only for a cluster

            self.placement = placement_for(self, paths)
            paths = []  # loaded as their leases are taken
        for path in paths:
            try:
                refused = self.compiling.refusal(path)
                if refused is None:
                    await self.load(path)
                else:
                    self._refused(path, refused)
            finally:
                self.compiling.loaded(path)
        await first_inits(self.runners, self._settled, self.log, FIRST_INIT_WAIT_S)
        # Only now: a message left pending by the last run must meet its hooks.
        self.spawn(self.outbox.run(), "outbox")
        # And only now may the journal be pruned: up to what the loaded modules passed.
        self.spawn(self.retention.run(), "retention")
        if config.watch.enabled:
            debounce = parse_duration_ms(config.watch.debounce)
            self.watcher = ModuleWatcher(self._manifests, self.reload, debounce)
            self.spawn(self.watcher.run(), "watch")
        manifests = [r.manifest for r in self.runners.values()]
        if self.placement is None:  # a cluster runs them once, on its sources role's engine
            self.sources.extend(
                module_sources(
                    config, manifests, self.store, self.clock, self.chain, self.poll_chains
                )
            )
        if registry is not None:
            self.sources.append(registry)
        for transport in self.transports.values():
            transport.progress = self.store
            await transport.start(self.publish)
        for source in self.sources:
            self.spawn(source.run(self.publish), f"source:{source.name}")
        if self.placement is not None:
            self.spawn(self.placement.run(), "cluster")
        try:
            await self._run_hooks("engine-start", {"modules": sorted(self.runners)})
        except HookBlockedError:
            await self.stop()
            raise
        self._started = True
        self.observer.engine("started")
        self.log.info("engine started", modules=len(self.runners), data_dir=str(config.data_path))

    def _start_tracing(self, settings: TracingSettings) -> None:
        from .._observe._tracing import Tracing  # the OpenTelemetry SDK: imported only when on

        self.tracing = Tracing(settings)
        self.outbox.tracing = self.tools.tracing = self.tracing
        for transport in self.transports.values():
            transport.request_headers = self.tracing.headers

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.log.error("engine task crashed", task=task.get_name(), error=repr(exc))

    # modules ----------------------------------------------------------------
    async def load(self, path: Path) -> ModuleRunner | None:
        """Load one module; a bad one is reported and skipped, the rest keep running."""
        try:
            manifest = self.config.configured(load_manifest(path))
            if manifest.name in self.runners:
                raise ModuleError(
                    manifest.name, f"a module with this name is already loaded ({path})"
                )
            loaded = await asyncio.to_thread(
                build_host, manifest, self.config, self.runtime, module_log, self._progress
            )
        except CoveError as exc:
            self._refused(path, exc)
            return None
        try:
            await self._run_hooks("module-loaded", loaded_payload(loaded.manifest))
        except HookBlockedError as exc:
            await asyncio.to_thread(loaded.host.close)
            self._refused(path, exc)
            return None
        runner = ModuleRunner(
            loaded,
            self.store,
            self.committer,
            self._read_events,
            self.http,
            module_log,
            self._state_changed,
            self._trajectories,
            chain=self.chain,
            hooks=self.hooks,
            spending=self._limits.spending(loaded.manifest.name),
            autonomy=self._limits.autonomy(loaded.manifest.name),
            hibernate_after_ms=self.config.hibernate_after_ms(loaded.manifest.name),
            init_slots=self._init_slots,
            retry_store_errors=self.placement is None,
        )
        runner.trace(self.tracing)
        self.hooks.add(
            hooks_of(loaded.manifest, self.config.hooks, runner.hook_call, runner.unavailable)
        )
        self.runners[runner.name] = runner
        self._wake_index.stale = True
        self.store.set_released(runner.name, False)
        self.load_errors.pop(path, None)
        self._runner_tasks[runner.name] = self.spawn(runner.run(), f"module:{runner.name}")
        if self.watcher is not None:
            self.watcher.refresh()
        return runner

    def _refused(self, path: Path, exc: CoveError) -> None:
        self.load_errors[path] = str(exc)
        self.log.error("module refused", path=str(path), error=str(exc))

    async def unload(self, name: str, release: bool = True) -> None:
        """Stop and close a module. ``release`` (the operator's unload) lets retention
        prune the journal past its cursor; otherwise the stored cursor still holds it."""
        runner = self.runners.pop(name)
        self._wake_index.stale = True
        if release:
            self.store.set_released(name, True)
        runner.stop()
        task = self._runner_tasks.pop(name)
        await asyncio.wait([task], timeout=5)
        self.hooks.remove(name)
        await asyncio.to_thread(runner.close)
        runner.supervisor.set_state(ModuleState.UNLOADED)
        if self.watcher is not None:
            self.watcher.refresh()
        await self._run_hooks("module-unloaded", {"module": name})

    async def drain(self, name: str, deadline_seconds: float) -> Drained:
        """Handle what is queued, up to the deadline, then unload (``_drain.py``)."""
        task = self._runner_tasks[name]
        return await drain(self.runners, name, task, self.store, self.unload, deadline_seconds)

    async def reload(self, name: str, root: Path | None = None) -> ModuleRunner:
        """Swap in the module's new version (from ``root``, else its directory) between two
        events (``_reload.py``); on any failure the old one keeps running and the
        ``CoveError`` is raised."""
        runner = self.runners[name]
        try:
            new = await reload(runner, self._build, self._admit, root)
        except CoveError as exc:
            self.log.error("reload refused", module=name, error=str(exc))
            raise
        self.hooks.remove(name)
        hooks = hooks_of(new.manifest, self.config.hooks, runner.hook_call, runner.unavailable)
        self.hooks.add(hooks)
        self.tools.refresh()
        self._wake_index.stale = True
        detail = f"{name} {new.manifest.module.version}"
        await self.publish([Event(Lifecycle("reloaded", detail))])
        return runner

    def _manifests(self) -> dict[str, Manifest]:
        return {name: runner.manifest for name, runner in self.runners.items()}

    def _build(self, manifest: Manifest) -> LoadedModule:
        return build_host(self.config.configured(manifest), self.config, self.runtime, module_log)

    async def _admit(self, manifest: Manifest) -> None:
        await self._run_hooks("module-loaded", loaded_payload(manifest))

    async def restart(self, name: str) -> ModuleRunner | None:
        """Unload and load again from the same directory (picks up a new version)."""
        path = self.runners[name].manifest.root
        # Not released: its stored cursor keeps what it has not handled, even if the
        # new version fails to load.
        await self.unload(name, release=False)
        return await self.load(path)

    def revive(self, name: str) -> bool:
        return self.runners[name].revive()

    def skip_failed_event(self, name: str) -> str | None:
        """Pass a dead module over the event it keeps failing on (then ``revive`` it):
        the event is marked handled with no effects and a ``skipped`` trajectory.
        Its id; None when the module is not dead or no event killed it (its init
        failed, or a hook blocked a commit)."""
        return self.runners[name].skip_failed_event()

    def subscribes(self, name: str, event: Event) -> bool:
        """Would the loaded module ``name`` receive ``event`` (its subscriptions match it)?"""
        runner = self.runners.get(name)
        return runner is not None and matches_any(runner.manifest.subscription, event, name)

    def _confirms(self, name: str) -> bool:
        """Does module ``name`` subscribe to the confirmations of its sends?"""
        return self.subscribes(name, Event(Custom(MESSAGE_SENT, name, "")))

    def module_info(self, name: str) -> ModuleInfo | None:
        """The loaded module's effective config and public identity; None when not loaded."""
        runner = self.runners.get(name)
        if runner is None:
            return None
        instance = runner.instance
        identity = instance.identity
        if identity is None:
            return ModuleInfo(dict(instance.manifest.config))
        return ModuleInfo(
            dict(instance.manifest.config), identity.address, identity.public_key, identity.npub
        )

    def _trajectory(self, trajectory: Trajectory) -> None:
        self._trajectories(trajectory.module, [trajectory])

    def _trajectories(self, module: str, records: list[Trajectory]) -> None:
        """Runs on the module's worker thread once per commit batch (on the event loop
        for an operator's skip, which is why it must stay thread-safe): keep it cheap."""
        self.latency.observe_many(module, [t.wall_ns for t in records if t.outcome != "skipped"])
        if self.trajectories is not None:
            self.trajectories.add(module, records)
        if self._on_trajectory is not None:
            for trajectory in records:
                self._on_trajectory(trajectory)
        if self.observer.active:
            for trajectory in records:
                self.observer.put(trajectory)

    def source_health(self) -> dict[str, str | None]:
        """Each source's task: None while it runs, else why it ended."""
        return source_health(self._tasks)

    def _state_changed(self, module: str, state: ModuleState, detail: str) -> None:
        if state in (ModuleState.DEAD, ModuleState.BACKOFF):
            self.log.warning("module " + state.value, module=module, detail=detail)
        else:
            self.log.debug("module " + state.value, module=module, detail=detail)
        self.observer.lifecycle(module, state.value, detail)
        self._settled.set()
        self.tools.refresh(module)
        if state == ModuleState.DEAD and self.hooks.has("module-dead"):
            payload = {"module": module, "detail": detail}
            self.spawn(self._run_hooks("module-dead", payload), f"hooks:module-dead:{module}")

    def _budget_exhausted(self, module: str, budget: str, limit: int) -> None:
        """From the module's worker thread: log it, and run the ``budget`` hooks."""
        loop = self._loop
        self.log.warning("module budget exhausted", module=module, budget=budget, limit=limit)
        if loop is not None and self.hooks.has("budget"):
            payload = {"module": module, "budget": budget, "limit": limit}
            loop.call_soon_threadsafe(
                self.spawn, self._run_hooks("budget", payload), f"hooks:budget:{module}"
            )

    async def _run_hooks(self, point: HookPoint, payload: dict[str, Any]) -> None:
        """Run an observing point's chain off the event loop; raises ``HookBlockedError``."""
        if self.hooks.has(point):
            await asyncio.to_thread(self.hooks.run, point, payload)

    def _retention_floor(self) -> int:
        """The journal seq every module has passed: retention prunes only up to it. Loaded
        modules count with what they passed, and every other module the operator has not
        unloaded with its stored cursor (refused at start, restarting, being loaded)."""
        runners = dict(self.runners)
        positions = [
            *(self._passed(r) for r in runners.values()),
            *(seq for name, seq in self.store.held_cursors().items() if name not in runners),
        ]
        return min(positions, default=self.store.head())

    def _passed(self, runner: ModuleRunner) -> int:
        """A module parked since it caught up, and not notified since, has passed every
        entry the wake index saw after it (none was its own), though its stored cursor
        moves only when it commits: a quiet module must not hold the journal."""
        if runner.parked and runner.position >= self._unseen_upto:
            return max(runner.position, self._last_seen)
        return runner.position

    def status(self) -> list[ModuleStatus]:
        head = self.store.head()
        outbox = self.store.outbox_health()
        memories = linear_memories()
        compiling = (
            [] if self.compiling is None else compiling_status(self.compiling, self.store, head)
        )
        runners = runner_status(
            list(self.runners.values()), self.store, head, outbox, memories, self._passed
        )
        if self.placement is not None:
            from ._cluster import elsewhere

            here = self.placement.engine_id
            runners = [dataclasses.replace(s, engine=here) for s in runners]
            compiling = elsewhere(self.placement, set(self.runners))
        return [*(s for s in compiling if s.name not in self.runners), *runners]

    def hooks_report(self) -> dict[str, Any]:
        """Each hook point's chain and counters, and the observer bridge's queue."""
        return hooks_report(self.hooks, self.observer)

    def gauges(self) -> dict[str, float]:
        """The engine-wide figures a metrics scrape shows besides the modules'."""
        return engine_gauges(self.store, self.trajectories, self.hooks, self.observer)

    def outbox_numbers(self) -> OutboxNumbers:
        return self.retention.numbers(self.outbox)

    def transport_counts(self) -> dict[str, TransportCounts]:
        """The counts of each transport that keeps them (nostr, mqtt), by name."""
        counted = {name: t.counts() for name, t in self.transports.items()}
        return {name: c for name, c in counted.items() if c is not None}

    async def retry_dead(self, ids: Sequence[int]) -> list[int]:
        return await self.outbox.retry_dead(ids)

    async def drop_dead(self, ids: Sequence[int]) -> list[int]:
        return await self.outbox.drop_dead(ids)

    def held_actions(self, module: str | None, limit: int) -> list[dict[str, Any]]:
        """Actions waiting for the operator's approval, oldest first."""
        return [held.as_json() for held in self.approvals.held(module, limit)]

    async def decide(self, ids: Sequence[int], approve: bool) -> list[int]:
        return await self.approvals.decide(ids, approve)

    # events -----------------------------------------------------------------
    async def publish(self, events: Sequence[Event]) -> None:
        """Journal events, wake the modules, and return once the events are durable.

        The modules wake before the flush: their commits (state, outbox,
        cursor) join the journal's open transaction, so none can be durable
        without the events, and effects leave only after a flush. Waking
        after it put an fsync and a thread hand-off between every event and
        its handler.
        """
        journal = None if self.tracing is None else self.tracing.journal(events)
        entries = self.store.append(events)
        self._remember(entries)
        await self.committer.flush()
        if journal is not None:
            journal.end()

    def _remember(self, entries: list[JournalEntry]) -> None:
        self._recent.add(entries)
        if entries:
            index = self._wake_index
            if index.stale:
                index.rebuild(self.runners.values())
            passed = entries[0].seq - 1
            if passed != self._last_seen:
                self._unseen_upto = passed
            self._last_seen = entries[-1].seq
            for runner in index.concerned(entries, self.runners):
                runner.notify(passed if runner.position >= self._unseen_upto else None)

    def _read_events(self, after_seq: int, limit: int) -> list[JournalEntry]:
        out = self._recent.read(after_seq, limit)
        if out is not None and (len(out) == limit or self._recent.next_seq > self.store.head()):
            return out
        # Not held, or entries journaled elsewhere (emitted events) may follow the held ones.
        return self.store.read(after_seq, limit)

    def running(self, name: str) -> bool:
        """Is module ``name`` loaded with its loop still going?"""
        task = self._runner_tasks.get(name)
        return task is not None and not task.done()

    def forget_recent(self) -> None:
        """The store lost its open batch: the entries held here may never have committed."""
        self._recent = RecentJournal(RECENT_EVENTS)

    def wake(self) -> None:
        """Another engine journaled events (``[cluster]``): the modules read them."""
        self._journaled.set()

    async def _dispatch_emitted(self) -> None:
        """Emitted events are journaled by the outbox; wake modules when that happens."""
        while True:
            await self._journaled.wait()
            self._journaled.clear()
            for runner in self.runners.values():
                runner.notify()

    # shutdown ---------------------------------------------------------------
    async def stop(self, drain_seconds: float = 5.0) -> None:
        self.stopping = True
        if self.placement is not None:  # takes no more leases, loads no more modules
            await self.placement.halt()
        await self._run_hooks("engine-stop", {"modules": sorted(self.runners)})
        self.observer.engine("stopping")
        for source in self.sources:
            await source.aclose()
        for task in [t for t in self._tasks if t.get_name().startswith("source:")]:
            task.cancel()
        # Every guest call in hand is cut now, not awaited to its deadline: its event
        # is not committed and is handled again at the next start.
        # A WASI sleep under way cannot be cut: one that outlasts the grace is not waited.
        hopeless = set()
        for name, runner in self.runners.items():
            runner.stop()
            if runner.interrupt() > drain_seconds:
                hopeless.add(name)
        self.runtime.interrupt()
        give_up = asyncio.get_running_loop().time() + drain_seconds
        tasks = self._runner_tasks
        awaited = [task for name, task in tasks.items() if name not in hopeless]
        if awaited:
            await asyncio.wait(awaited, timeout=drain_seconds)
        for task in tasks.values():
            task.cancel()  # done ones ignore it; the rest are left to their threads
        await asyncio.to_thread(self.observer.close, drain_seconds)  # before its hosts close
        for name, runner in self.runners.items():
            left = max(0.0, give_up - asyncio.get_running_loop().time())
            await asyncio.to_thread(runner.close, 0.0 if name in hopeless else left)
        # A stopped store refuses every call: what it lost is handled again after a restart.
        store_works = self.store.stopped() is None
        if store_works:
            await self.committer.flush()
            await self.outbox.drain(drain_seconds)
        if self.placement is not None:  # after the flush: the next holder finds it all
            await self.placement.leave()
        for transport in self.transports.values():  # after the drain: it sends through them
            await transport.aclose()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.final_status = self.status() if store_works else []
        self.http.close()
        if self.chain is not None:
            self.chain.close()
        self.runtime.close()
        self.committer.close()
        self.store.close()
        if self.trajectories is not None:
            await asyncio.to_thread(self.trajectories.close)
        self.hooks.close()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)
        self.log.info("engine stopped")
