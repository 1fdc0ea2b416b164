"""A thread pool whose threads never hold up process exit, and never make a job wait.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
interpreter exits, so one hook that never returns would keep the engine
process alive after ``stop()``. These threads are daemons: an abandoned call
dies with the process. A fixed number of threads would let a few stuck calls
starve every later one (which then time out and blame the wrong hook), so a
job that finds no idle thread gets a new one; the caller bounds how many
calls it abandons.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
_Job = tuple[Future[T], Callable[[], T]] | None


class DaemonPool(Generic[T]):
    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job[T]] = queue.SimpleQueue()
        self._name = name
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a job and not yet promised one

    @property
    def threads(self) -> int:
        return self._threads

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                name = f"{self._name}-{self._threads}"
                threading.Thread(target=self._work, name=name, daemon=True).start()
                self._threads += 1
        self._jobs.put((future, fn))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn = job
            if not future.set_running_or_notify_cancel():
                self._free()  # cancelled while it waited
                continue
            try:
                result = fn()
            except BaseException as exc:  # the caller sees it through the future
                self._free()
                future.set_exception(exc)
            else:
                self._free()  # before the caller hears: its next job finds this thread
                future.set_result(result)

    def _free(self) -> None:
        with self._lock:
            self._idle += 1

    def close(self) -> None:
        """Free threads end after their current job; a stuck one is left to the process."""
        with self._lock:
            threads = self._threads
        for _ in range(threads):
            self._jobs.put(None)
