"""Draining one module: let it handle what was queued when the drain began, up to a deadline.

Design note: nothing is copied or queued for a drain. The runner is told the
journal head at that moment and its loop ends once its position reaches it;
events journaled later stay where they are, and so does its cursor, so the
module's next load resumes from there. At the deadline the supervisor stops
the batch between two events: the event in hand finishes and commits, the
rest of the batch is left unhandled (never half-handled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from .._store._base import Store
from .._types import Drained
from ._runner import ModuleRunner


async def drain(
    runners: Mapping[str, ModuleRunner],
    name: str,
    task: asyncio.Task[None],
    store: Store,
    unload: Callable[[str, bool], Awaitable[None]],
    deadline_seconds: float,
) -> Drained:
    """Drain the module ``name`` whose loop is ``task``, then ``unload`` it, not released:
    its stored cursor holds the events it did not handle for its next load."""
    runner = runners[name]
    complete = await _handle_queued(runner, task, store.head(), deadline_seconds)
    if runners.get(name) is runner:  # the operator may have unloaded it meanwhile
        await unload(name, False)
    return Drained(name, complete, runner.queue_depth(store.head()))


async def _handle_queued(
    runner: ModuleRunner, task: asyncio.Task[None], until: int, deadline_seconds: float
) -> bool:
    """True when the runner handled everything up to ``until`` before the deadline."""
    runner.drain(until)
    done, _ = await asyncio.wait([task], timeout=deadline_seconds)
    if done:
        return True
    runner.supervisor.cut_drain()
    return False


__all__ = ["drain"]
