"""Engine shutdown: the order things stop in is what keeps nothing lost.

Design note: sources stop first (nothing new arrives), then every guest call in hand
is cut rather than awaited (its event is not committed and is handled again at the
next start), then the last flush and the outbox's drain, and only then the
transports, the store and the rest. A store that stopped refuses every call, so
its flush and drain are skipped: what it lost is handled again after a restart.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._engine import Engine


async def shut_down(engine: Engine, drain_seconds: float) -> None:
    if engine.placement is not None:  # takes no more leases, loads no more modules
        await engine.placement.halt()
    await engine._run_hooks("engine-stop", {"modules": sorted(engine.runners)})
    engine.observer.engine("stopping")
    for source in engine.sources:
        await source.aclose()
    for task in [t for t in engine._tasks if t.get_name().startswith("source:")]:
        task.cancel()
    # Every guest call in hand is cut now, not awaited to its deadline: its event
    # is not committed and is handled again at the next start.
    # A WASI sleep under way cannot be cut: one that outlasts the grace is not waited.
    hopeless = set()
    for name, runner in engine.runners.items():
        runner.stop()
        if runner.interrupt() > drain_seconds:
            hopeless.add(name)
    engine.runtime.interrupt()
    give_up = asyncio.get_running_loop().time() + drain_seconds
    tasks = engine._runner_tasks
    awaited = [task for name, task in tasks.items() if name not in hopeless]
    if awaited:
        await asyncio.wait(awaited, timeout=drain_seconds)
    for task in tasks.values():
        task.cancel()  # done ones ignore it; the rest are left to their threads
    await asyncio.to_thread(engine.observer.close, drain_seconds)  # before its hosts close
    for name, runner in engine.runners.items():
        left = max(0.0, give_up - asyncio.get_running_loop().time())
        await asyncio.to_thread(runner.close, 0.0 if name in hopeless else left)
    # A stopped store refuses every call: what it lost is handled again after a restart.
    store_works = engine.store.stopped() is None
    if store_works:
        await engine.committer.flush()
        await engine.outbox.drain(drain_seconds)
    if engine.placement is not None:  # after the flush: the next holder finds it all
        await engine.placement.leave()
    for transport in engine.transports.values():  # after the drain: it sends through them
        await transport.aclose()
    for task in engine._tasks:
        task.cancel()
    await asyncio.gather(*engine._tasks, return_exceptions=True)
    engine.final_status = engine.status() if store_works else []
    engine.http.close()
    if engine.chain is not None:
        engine.chain.close()
    engine.runtime.close()
    engine.committer.close()
    engine.store.close()
    if engine.trajectories is not None:
        await asyncio.to_thread(engine.trajectories.close)
    engine.hooks.close()
    if engine.tracing is not None:
        await asyncio.to_thread(engine.tracing.close)
    engine.log.info("engine stopped")
