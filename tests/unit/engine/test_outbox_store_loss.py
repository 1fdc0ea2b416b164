"""The outbox worker outlives a store that failed for a while ([cluster] reopens it)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from cove._config_retention import OutboxSettings
from cove._engine._outbox import OutboxWorker
from cove._store._base import OutboxEntry
from cove.errors import StoreError


class _Store:
    def __init__(self) -> None:
        self.reads = 0

    def pending_effects(self, now_ms: int, limit: int) -> list[OutboxEntry]:
        self.reads += 1
        if self.reads == 1:
            raise StoreError("the server went away")
        return []


async def test_a_failed_read_does_not_end_delivery() -> None:
    store = _Store()
    worker = OutboxWorker(
        cast(Any, store),
        cast(Any, None),
        {},
        asyncio.Event(),
        lambda: 0,
        OutboxSettings(),
        logging.getLogger("test"),
    )
    task = asyncio.ensure_future(worker.run())
    await asyncio.sleep(0.05)
    worker.kick()
    await asyncio.sleep(0.05)
    assert not task.done(), "the outbox worker ended on a store error"
    assert store.reads >= 2
    task.cancel()
