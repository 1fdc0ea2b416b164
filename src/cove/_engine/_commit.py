"""Commit policy: fsync per event, or group commit with a latency bound.

Per-event: every event is durable before the module takes the next one;
simplest to reason about, one fsync per event (hundreds per second on a
disk that honours fsync). Batched: events commit into one open transaction
and a flusher makes them durable every ``max_delay`` or ``max_batch``
events, whichever comes first; many times the throughput, and a crash loses
at most the unflushed batch, which is then handled again from the journal
because cursors were not flushed either. Effects leave only after a flush.

The mode is decided here and nowhere else: runners ask ``events_per_commit``
and report each commit through ``committed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .._store._base import Store
from ..errors import StoreError
from ._lane import Lane
from ._lifecycle import wait_event


class Committer:
    def __init__(self, store: Store, mode: str, max_delay_ms: int, max_batch: int) -> None:
        self.store = store
        self._per_event = mode == "per-event"
        self._max_delay = max_delay_ms / 1000
        self._max_batch = max_batch
        self._dirty = 0
        self._kick = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.flushes = 0
        self._asked = 0  # flush() calls so far; each one's writes precede its number
        self._covered = 0  # the highest call number a finished flush has covered
        self._running: asyncio.Future[None] | None = None
        self._lane = Lane("cove-commit")

    def on_flush(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def events_per_commit(self, batch: int) -> int:
        """How many of a batch's events go into one commit: all of them, or one each."""
        return 1 if self._per_event else batch

    def committed(self, count: int = 1, *, durable: bool = False) -> None:
        """Called (from any thread) after events are committed but maybe not durable;
        flushed at once in per-event mode or when ``durable`` (a commit that no
        journal entry would replay: a tool call's, a skip)."""
        assert self._loop is not None, "Committer.run() has not started"
        if self._per_event or durable:
            self.store.flush()
            self._loop.call_soon_threadsafe(self._notify)
            return
        self._dirty += count
        if self._dirty >= self._max_batch:
            self._loop.call_soon_threadsafe(self._kick.set)

    def _notify(self) -> None:
        self.flushes += 1
        for listener in self._listeners:
            listener()

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def run(self) -> None:
        self.bind()
        while True:
            await wait_event(self._kick, self._max_delay)
            self._kick.clear()
            if self._dirty:
                try:
                    await self.flush()
                except StoreError:
                    # The store says why (``stopped``, readiness); the publishers' own
                    # flushes raise it to them. The loop goes on for when it is back.
                    continue

    async def flush(self) -> None:
        """Make everything written so far durable; concurrent callers share one commit.

        Many publishers (webhook connections) flushing at once would each hop
        to a thread and commit in turn. Instead a caller waits for the flush in
        progress, and if that one began before its writes, for the next one,
        which covers every caller that arrived meanwhile: one fsync per round.
        """
        self._asked += 1
        mine = self._asked
        while self._covered < mine:
            if self._running is None:
                self._running = asyncio.ensure_future(self._flush_through(self._asked))
            await asyncio.shield(self._running)

    def close(self) -> None:
        """Release the flush thread (after the engine's last flush)."""
        self._lane.close()

    async def _flush_through(self, asked: int) -> None:
        try:
            self._dirty = 0
            await self._lane.run(self.store.flush)
            self._covered = max(self._covered, asked)
            self._notify()
        finally:
            self._running = None
