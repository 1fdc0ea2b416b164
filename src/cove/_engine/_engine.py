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
from .._events import MESSAGE_SENT, Custom, Event
from .._hosts._linear_memory import linear_memories
from .._hosts._wasm_runtime import Progress, WasmRuntime
from .._manifest import (
    Manifest,
)
from .._observe._logging import engine_logger, module_log
from .._observe._metrics import LatencyHistograms
from .._observe._outbox_metrics import OutboxNumbers
from .._observe._trajectories import TrajectoryStore
from .._registry._follower import follower_for
from .._sources._base import Source, Transport, TransportCounts
from .._sources._clock import Clock
from .._store._base import Store
from .._supply._component import resolver_for
from .._types import Drained, ModuleInfo, ModuleStatus
from .._units import parse_duration_ms
from ..errors import CoveError, HookBlockedError
from ._approvals import Approvals
from ._compiling import Compiling
from ._drain import drain
from ._first_inits import first_inits
from ._hook_payloads import loaded_payload
from ._hooks import Hooks
from ._journal_feed import JournalFeed
from ._lifecycle import ModuleState
from ._loader import LoadedModule, build_host
from ._matching import matches_any
from ._module_sources import module_sources
from ._modules import load_module, reload_module, unload_module
from ._observer import ObserverBridge
from ._open_store import open_store
from ._operator_limits import OperatorLimits
from ._outbox import OutboxWorker
from ._parts import committer_for, trajectory_store
from ._retention import RetentionWorker
from ._runner import ModuleRunner
from ._shutdown import shut_down
from ._status import (
    compiling_status,
    engine_gauges,
    hooks_report,
    runner_status,
    source_health,
    status_head,
)
from ._tools import ToolRegistry
from ._trajectory import Trajectory, now_ms
from ._watch import ModuleWatcher

if TYPE_CHECKING:
    from .._observe._tracing import Tracing
    from ._placement import Placement

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
        self._feed = JournalFeed(self.runners, lambda: self.store)
        """The runners an append wakes, and where they read (``_journal_feed.py``)."""
        self.load_errors: dict[Path, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._runner_tasks: dict[str, asyncio.Task[None]] = {}
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
        self.runtime = WasmRuntime(
            config.cache_path, parse_duration_ms(config.wasm.epoch_tick), config.wasm.compiler
        )
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
        return await load_module(self, path)

    def _refused(self, path: Path, exc: CoveError) -> None:
        self.load_errors[path] = str(exc)
        self.log.error("module refused", path=str(path), error=str(exc))

    async def unload(self, name: str, release: bool = True) -> None:
        """Stop and close a module. ``release`` (the operator's unload) lets retention
        prune the journal past its cursor; otherwise the stored cursor still holds it."""
        await unload_module(self, name, release)

    async def drain(self, name: str, deadline_seconds: float) -> Drained:
        """Handle what is queued, up to the deadline, then unload (``_drain.py``)."""
        task = self._runner_tasks[name]
        return await drain(self.runners, name, task, self.store, self.unload, deadline_seconds)

    async def reload(self, name: str, root: Path | None = None) -> ModuleRunner:
        """Swap in the module's new version (from ``root``, else its directory) between two
        events (``_reload.py``); on any failure the old one keeps running and the
        ``CoveError`` is raised."""
        return await reload_module(self, name, root)

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
            *(self._feed.passed(r) for r in runners.values()),
            *(seq for name, seq in self.store.held_cursors().items() if name not in runners),
        ]
        return min(positions, default=self.store.head())

    def status(self) -> list[ModuleStatus]:
        head, stale = status_head(self.store)
        outbox = self.store.outbox_health()
        memories = linear_memories()
        compiling = (
            []
            if self.compiling is None
            else compiling_status(self.compiling, self.store, head, stale)
        )
        runners = runner_status(
            list(self.runners.values()),
            self.store,
            head,
            outbox,
            memories,
            self._feed.passed,
            stale,
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
        self._feed.appended(entries)
        await self.committer.flush()
        if journal is not None:
            journal.end()

    def running(self, name: str) -> bool:
        """Is module ``name`` loaded with its loop still going?"""
        task = self._runner_tasks.get(name)
        return task is not None and not task.done()

    def forget_recent(self) -> None:
        """The store lost its open batch: the entries held here may never have committed."""

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
        """Sources first, then the modules (cut, not awaited), the flush and the outbox's
        drain, then everything else (``_shutdown.py``)."""
        self.stopping = True
        await shut_down(self, drain_seconds)
