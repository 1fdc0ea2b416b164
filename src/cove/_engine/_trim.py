"""Give the heap freed by hibernated instances back to the system.

Design note: an instance's Store is closed at once when its module
hibernates, but glibc keeps most of what it freed in its arenas (one per
thread that allocated it), so the process's RSS hardly fell: 500 hibernated
modules measured ~245 KB each before a ``malloc_trim``, ~110 KB after
(bench/hibernation.py). One trim per second at most, off the event loop,
after modules hibernated; a no-op where the C library has no ``malloc_trim``.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

INTERVAL_S = 1.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    return None if trim is None else trim


class HeapTrim:
    """``request`` from the event loop; the trims run on a worker thread, one at a time."""

    def __init__(self) -> None:
        self._trim = _malloc_trim()
        self._scheduled = False

    def request(self) -> None:
        if self._trim is None or self._scheduled:
            return
        self._scheduled = True
        asyncio.get_running_loop().call_later(INTERVAL_S, self._start)

    def _start(self) -> None:
        task = asyncio.ensure_future(asyncio.to_thread(self._run))
        task.add_done_callback(lambda _t: None)

    def _run(self) -> None:
        self._scheduled = False
        self.now()

    def now(self) -> None:
        """Trim at once, on this thread (the bench trims before it measures)."""
        if self._trim is not None:
            self._trim(0)


heap_trim = HeapTrim()
"""One per process: the heap is the process's."""

__all__ = ["HeapTrim", "heap_trim"]
