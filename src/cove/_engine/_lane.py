"""Lane: one thread of its own for a strand of blocking work (a module's batches, the commit flush).

``asyncio.to_thread`` shares the loop's default pool with everything else
that blocks (hooks, retention, loads, closes), so a burst there made
modules and commits wait in line behind it. A module's work is strictly
sequential and so is the flush, so one thread each is enough, and it keeps
a module's wasm Store on one thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Lane:
    """A one-thread executor; ``run`` is ``asyncio.to_thread`` on it (context variables included)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        context = contextvars.copy_context()
        call = functools.partial(context.run, fn, *args, **kwargs)
        if self._executor is None and not self._closed:  # first use, or after ``park``
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        if self._executor is None:
            raise RuntimeError(f"{self._name}: closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def park(self) -> None:
        """Let the thread end once its work is done; the next ``run`` starts another (a
        hibernating module keeps no thread)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def close(self) -> None:
        """Let the work in hand finish; take no more."""
        self._closed = True
        self.park()
