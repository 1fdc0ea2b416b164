"""A small thread pool whose threads never hold up process exit.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
interpreter exits, so one hook that never returns would keep the engine
process alive after ``stop()``. These threads are daemons: an abandoned call
dies with the process.
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
    def __init__(self, threads: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job[T]] = queue.SimpleQueue()
        self._threads = threads
        for index in range(threads):
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True).start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, fn))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn = job
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            try:
                future.set_result(fn())
            except BaseException as exc:  # the caller sees it through the future
                future.set_exception(exc)

    def close(self) -> None:
        """Free threads end after their current job; a stuck one is left to the process."""
        for _ in range(self._threads):
            self._jobs.put(None)
