"""A parked module skips only entries the engine looked at for it.

Publishing moves a caught-up, unconcerned module past the appended entries
without waking it (the wake index). Entries journaled without passing the
index (another engine of a cluster, the outbox's emitted events and alarms)
must never be skipped that way: the module reads them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cove import Custom, Engine, Event, load_config
from cove.testing import MemoryTransport
from tests.helpers.engine import wait_until
from tests.helpers.modules import native_counter, write_engine_config


async def test_an_entry_journaled_elsewhere_is_not_skipped_by_a_publish_after_it(
    tmp_path: Path,
) -> None:
    module = native_counter(tmp_path, "counter", "memory", subscribe="probe.mine")
    config = load_config(write_engine_config(tmp_path / "engine.toml", [module]))
    transport = MemoryTransport()
    engine = Engine(config, transports=[transport])
    await engine.start()
    try:
        await engine.publish([Event(Custom("probe.mine", "", "{}"))])
        await wait_until(lambda: len(transport.sent) == 1, what="the first message")
        await asyncio.sleep(0.05)  # handled, caught up and parked
        # Journaled as another engine (or the outbox) does: straight into the store,
        # then, before anything reads it, a publish of the module's own.
        engine.store.append([Event(Custom("probe.mine", "", "{}"))])
        await engine.publish([Event(Custom("probe.mine", "", "{}"))])
        engine.wake()  # what a cluster's NOTIFY (or the outbox) does next
        await wait_until(lambda: len(transport.sent) == 3, timeout=10, what="the third message")
        assert ["counter:1", "counter:2", "counter:3"] == [m.body for m in transport.sent]
    finally:
        await engine.stop(drain_seconds=2)
