"""A million events through a real engine with retention on: cove.db stays under a stated
size (17.4 MiB measured), where without retention it grows without bound (54.9 MiB after
100,000 events measured with retention set out of reach, so ~550 MiB for a million).

The module (tests/assets/native_counter) writes state and sends one message per event,
so every event leaves a journal entry and an outbox row behind. The publisher keeps at
most ``LAG`` events ahead of the module, as a source that the module keeps pace with:
retention never prunes what a module has not passed, so a module that falls behind holds
the journal (test_retention.py covers that).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from cove import Custom, Event
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import native_counter, write_engine_config

EVENTS = int(os.environ.get("COVE_TEST_RETENTION_EVENTS", "1000000"))
BATCH = 2_000
LAG = 20_000
# The bound this test states for cove.db plus its WAL.
MAX_BYTES = 32 * 1024 * 1024

RETENTION = """
[trajectories]
enabled = false

[retention]
journal_max_age = "2s"
journal_max_size = "8MiB"
delivered_max_age = "2s"
interval = "250ms"
"""


class CountingTransport(MemoryTransport):
    """Counts sends instead of keeping them: a million messages would not fit in memory."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.count = 0

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.count += 1


def _disk(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("cove.db*"))


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_million_events_leave_the_database_under_its_bound(tmp_path: Path) -> None:
    transport = CountingTransport("chat")
    module = native_counter(tmp_path, "counter", "chat")
    config = write_engine_config(tmp_path / "engine.toml", [module], RETENTION)
    data = tmp_path / "data"
    largest = 0
    async with running_engine(config, transports=[transport]) as engine:
        runner = engine.runners["counter"]
        for start in range(0, EVENTS, BATCH):
            await engine.publish(
                [
                    Event(Custom("probe.tick", "", f'{{"n": {n}}}'))
                    for n in range(start, start + BATCH)
                ]
            )
            while engine.store.head() - runner.position > LAG:
                await asyncio.sleep(0.005)
            if start % (50 * BATCH) == 0:
                largest = max(largest, _disk(data))
        await wait_until(lambda: transport.count == EVENTS, timeout=300, what="all delivered")
        assert EVENTS == state_json(engine, "counter", "count")
        pruned = (engine.retention.pruned_journal, engine.retention.pruned_delivered)
        largest = max(largest, _disk(data))
    print(f"\n{EVENTS:,} events: largest cove.db + WAL {largest / 2**20:.1f} MiB, pruned {pruned}")
    assert largest < MAX_BYTES
    assert pruned[0] > EVENTS // 2 and pruned[1] > EVENTS // 2
