"""Committer.flush: callers that flush at once share commits, and none returns before its writes are durable."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, cast

from cove._engine._commit import Committer
from cove.errors import StoreError


class _Store:
    """Counts writes and commits; a commit makes every write so far durable and takes a while."""

    def __init__(self) -> None:
        self.written = 0
        self.durable = 0
        self.commits = 0
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            upto = self.written
            time.sleep(0.005)  # an fsync
            self.durable = max(self.durable, upto)
            self.commits += 1


async def test_concurrent_flushes_share_commits_and_each_returns_durable() -> None:
    store = _Store()
    committer = Committer(cast(Any, store), "batched", 10, 2000)
    committer.bind()
    late: list[int] = []

    async def publisher(delay: float) -> None:
        await asyncio.sleep(delay)
        store.written += 1
        mine = store.written
        await committer.flush()
        if store.durable < mine:
            late.append(mine)

    await asyncio.gather(*(publisher(i % 8 * 0.002) for i in range(64)))
    assert [] == late
    committer.close()
    assert store.commits <= 16  # 64 callers, a handful of rounds


async def test_the_commit_mode_is_decided_by_the_committer_alone() -> None:
    """Batched: a batch is one commit, made durable later; per-event: one event per commit,
    flushed at once; a durable commit (a tool call's, a skip) is flushed in either mode."""
    for mode, per_commit, flushes_now in (("batched", 256, False), ("per-event", 1, True)):
        store = _Store()
        committer = Committer(cast(Any, store), mode, 10_000, 2000)
        committer.bind()
        assert per_commit == committer.events_per_commit(256)
        committer.committed(256)
        assert flushes_now == (store.commits == 1)
        committer.committed(1, durable=True)
        assert store.commits == (2 if flushes_now else 1)
        committer.close()


async def test_a_failed_flush_does_not_end_the_group_commit_loop() -> None:
    """The store lost its connection for one flush ([cluster] reopens it): commits after
    that are still flushed by the loop, not left waiting for a publisher's flush."""

    class _Failing(_Store):
        fail = True

        def flush(self) -> None:
            if self.fail:
                self.fail = False
                raise StoreError("the server went away")
            super().flush()

    store = _Failing()
    committer = Committer(cast(Any, store), "batched", 10, 1)
    loop = asyncio.ensure_future(committer.run())
    await asyncio.sleep(0.01)
    committer.committed(1)
    await asyncio.sleep(0.1)
    committer.committed(1)
    await asyncio.sleep(0.1)
    assert not loop.done(), "the group commit loop ended"
    assert 1 == store.commits
    loop.cancel()
    committer.close()
