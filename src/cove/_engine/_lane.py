"""Lane: one thread of its own for a strand of blocking work (a module's batches, the commit flush).

``asyncio.to_thread`` shares the loop's default pool with everything else
that blocks (hooks, retention, loads, closes), so a burst there made
modules and commits wait in line behind it. A module's work is strictly
sequential and so is the flush, so one thread each is enough, and it keeps
a module's wasm Store on one thread.

The thread is a daemon: a guest call the engine could not cut at stop (a
WASI sleep already under way ends only at its own deadline) must not hold
up the process's exit, which a ``ThreadPoolExecutor``'s worker did (Python
joins those at exit). What it was doing is not committed, so nothing is
lost: its event is handled again at the next start.

The thread starts on first use and can be parked: a hibernating module
keeps no thread, and its next call starts another.

A lane can be lowered: its thread runs at a higher OS niceness (Linux,
where niceness is per thread), so a module failing again and again (a
memory bomb rebuilt on every attempt) yields the shared cores to its
neighbours. Raising a thread's priority back needs privileges, so
``restore`` lets the lowered thread go and the next call starts a fresh one.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop, int]
"""(call, its future, the loop to settle it on, the niceness increment to run it at)"""
_Jobs = queue.SimpleQueue[_Job | None]


class Lane:
    """A one-thread executor; ``run`` is ``asyncio.to_thread`` on it (context variables included)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: _Jobs | None = None
        self._closed = False
        self._lowered = 0

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._closed:
            raise RuntimeError(f"{self._name}: closed")
        if self._jobs is None:  # first use, or after ``park``
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=_work, args=(self._jobs,), name=self._name, daemon=True).start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        self._jobs.put((call, future, loop, self._lowered))
        return await future

    def lower(self, by: int) -> None:
        """Run the calls from now on ``by`` niceness steps lower (Linux; elsewhere
        niceness is the whole process's, and nothing changes)."""
        if sys.platform == "linux":
            self._lowered = by

    def restore(self) -> None:
        """Run the calls from now on at the process's priority again."""
        if self._lowered:
            self._lowered = 0
            self.park()

    def park(self) -> None:
        """Let the thread end once its work in hand is done; the next ``run`` starts another."""
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    def close(self) -> None:
        """Let the work in hand finish; take no more."""
        self._closed = True
        self.park()


def _work(jobs: _Jobs) -> None:
    lowered = 0
    while (job := jobs.get()) is not None:
        call, future, loop, by = job
        if by > lowered:
            _renice(by - lowered)
            lowered = by
        try:
            result, error = call(), None
        except BaseException as exc:
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(_settle, future, result, error)
        except RuntimeError:  # the loop closed while the call ran (abandoned at stop)
            pass


def _renice(steps: int) -> None:
    """This thread ``steps`` niceness steps lower (lowering needs no privilege)."""
    me = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + steps))
    except OSError:  # a sandbox that forbids it: the thread runs as it was
        pass


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
