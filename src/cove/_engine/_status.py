"""What the engine reports: each module's status (compiling ones, then running ones), each
source's health, its hooks and its engine-wide gauges."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from .._observe._trajectories import TrajectoryStore
from .._store._base import OutboxHealth, Store
from .._types import ModuleStatus
from ..errors import StoreError
from ._compiling import Compiling
from ._hooks import Hooks
from ._observer import ObserverBridge
from ._runner import ModuleRunner


def status_head(store: Store) -> tuple[int, bool]:
    """The journal's head for a status, and whether it is only the last one known: a status
    answers while the journal's server is away (NATS), its queue depths marked stale."""
    try:
        return store.head(), False
    except StoreError:
        return store.known_head(), True


def compiling_status(
    compiling: Compiling, store: Store, head: int, stale: bool = False
) -> list[ModuleStatus]:
    """Modules not loaded yet at start (compiling or waiting for their load): no runner
    yet, their backlog from the stored cursor."""
    return [
        ModuleStatus(
            m.name,
            m.module.version,
            m.module.kind,
            state.value,
            0,
            0,
            0,
            head - store.cursor(m.name),
            "",
            sha256=m.module.sha256 or "",
            path=str(m.root),
            queue_depth_stale=stale,
        )
        for m, state in compiling.states()
    ]


def runner_status(
    runners: list[ModuleRunner],
    store: Store,
    head: int,
    outbox: dict[str, OutboxHealth],
    memories: dict[int, int],
    passed: Callable[[ModuleRunner], int],
    stale: bool = False,
) -> list[ModuleStatus]:
    """``passed``: what each module has passed (see ``Engine._passed``), where its queue
    depth is counted from; ``stale``: ``head`` is only the last one known."""
    return [_one(r, store, head, outbox, memories, passed(r), stale) for r in runners]


def _one(
    r: ModuleRunner,
    store: Store,
    head: int,
    outbox: dict[str, OutboxHealth],
    memories: dict[int, int],
    passed: int,
    stale: bool,
) -> ModuleStatus:
    try:
        depth = r.queue_depth(head, passed)
    except StoreError:  # the entries to count are on a server that is away
        depth, stale = r.last_queue_depth, True
    return ModuleStatus(
        r.name,
        r.manifest.module.version,
        r.manifest.module.kind,
        r.state.value,
        r.stats.handled,
        r.stats.failed,
        r.stats.restarts,
        depth,
        r.stats.last_error,
        r.stats.fuel_total,
        store.state_bytes(r.name),
        outbox.get(r.name, OutboxHealth()).backlog,
        r.manifest.module.sha256 or "",
        str(r.manifest.root),
        r.host.memory_high_water(memories),
        r.failed_event_id,
        r.stats.skipped,
        *_outbox_fields(outbox.get(r.name, OutboxHealth())),
        r.stats.last_error_ms,
        r.stats.last_error_event_id,
        r.stats.last_ok_ms,
        {} if r.spending is None else r.spending.report(),
        queue_depth_stale=stale,
    )


def _outbox_fields(health: OutboxHealth) -> tuple[int, str, int | None, int]:
    """ModuleStatus's outbox fields after ``skipped``, in their order."""
    return health.attempts, health.last_error, health.next_retry_ms, health.dead_letters


def source_health(tasks: Iterable[asyncio.Task[None]]) -> dict[str, str | None]:
    """Each source's task (named ``source:<name>``): None while it runs, else why it ended."""
    health: dict[str, str | None] = {}
    for task in tasks:
        name = task.get_name()
        if not name.startswith("source:"):
            continue
        error: str | None = None
        if task.done():
            exc = None if task.cancelled() else task.exception()
            error = "stopped" if exc is None else f"{type(exc).__name__}: {exc}"
        health[name.removeprefix("source:")] = error
    return health


def hooks_report(hooks: Hooks, observer: ObserverBridge) -> dict[str, Any]:
    """Each hook point's chain and counters, and the observer bridge's queue."""
    stream = {"queued": observer.queued, "dropped": observer.dropped}
    return {**hooks.describe(), "observer_bridge": stream}


def engine_gauges(
    store: Store, trajectories: TrajectoryStore | None, hooks: Hooks, observer: ObserverBridge
) -> dict[str, float]:
    """The engine-wide figures a metrics scrape shows besides the modules'."""
    head, stale = status_head(store)
    gauges = {"cove_journal_head": float(head), "cove_journal_head_stale": float(stale)}
    if trajectories is not None:
        gauges["cove_trajectories_stored_bytes"] = float(trajectories.stored_bytes)
        gauges["cove_trajectories_dropped"] = float(trajectories.dropped)
    gauges["cove_hooks_observer_dropped"] = float(observer.dropped)
    gauges["cove_hooks_failed"] = float(hooks.failed.total())
    gauges["cove_hooks_vetoed"] = float(hooks.vetoed.total())
    return gauges


__all__ = [
    "compiling_status",
    "engine_gauges",
    "hooks_report",
    "runner_status",
    "source_health",
    "status_head",
]
