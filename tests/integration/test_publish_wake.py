"""Publish wakes the modules as soon as the events are journaled, not after the fsync.

The journal append, a module's commit and its cursor share one store
transaction, so a module may handle an event before that transaction is
durable: the publisher still hears back only after the flush, and the
module's effects still leave only after a flush.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cove import Custom, Engine, Event, load_config
from cove.testing import MemoryTransport
from tests.helpers.engine import wait_until
from tests.helpers.gated_store import GatedStore
from tests.helpers.modules import native_counter, write_engine_config


async def test_a_module_handles_an_event_while_its_publish_is_still_flushing(
    tmp_path: Path,
) -> None:
    """The handler runs during the publish's flush; the publish and the message wait for it."""
    module = native_counter(tmp_path, "counter", "memory")
    config = load_config(write_engine_config(tmp_path / "engine.toml", [module]))
    store = GatedStore(config.data_path / "cove.db")
    gate = store.flush_gate
    transport = MemoryTransport()
    engine = Engine(config, transports=[transport], store=store)
    await engine.start()
    try:
        runner = engine.runners["counter"]
        # A first event, so the runner is past its start and asleep when the second comes.
        await engine.publish([Event(Custom("probe.one", "", "{}"))])
        await wait_until(lambda: len(transport.sent) == 1, what="the first message")
        await asyncio.sleep(0.05)
        gate.held.set()
        publishing = asyncio.ensure_future(engine.publish([Event(Custom("probe.two", "", "{}"))]))
        await wait_until(gate.reached.is_set, what="the publish's flush to start")
        await wait_until(lambda: runner.stats.handled == 2, timeout=5, what="the handler")
        assert not publishing.done()
        assert ["counter:1"] == [m.body for m in transport.sent]
        gate.open()
        await publishing
        await wait_until(lambda: len(transport.sent) == 2, what="the second message")
        assert ["counter:1", "counter:2"] == [m.body for m in transport.sent]
    finally:
        gate.open()
        await engine.stop(drain_seconds=2)
