"""A status call does not re-read the journal for modules that have waited, caught up,
while others' events came: with thousands of quiet modules (hibernation), counting each
one's queue depth entry by entry made every status call and metrics scrape stall the loop."""

from __future__ import annotations

import json
from pathlib import Path

from cove import Custom, Event
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import native_counter, write_engine_config


async def test_quiet_modules_queue_depth_is_counted_without_reading_the_journal(
    tmp_path: Path,
) -> None:
    transport = MemoryTransport("chat")
    quiet = [native_counter(tmp_path, f"quiet{i}", "chat", "later.*") for i in range(10)]
    modules = [native_counter(tmp_path, "busy", "chat"), *quiet]
    config = write_engine_config(tmp_path / "engine.toml", modules)
    async with running_engine(config, transports=[transport]) as engine:
        engine.status()  # every module counted once, at the head
        events = [Event(Custom("probe.tick", "", json.dumps({"n": i}))) for i in range(500)]
        await engine.publish(events)
        await wait_until(lambda: len(transport.sent) == 500, what="the busy module's messages")
        recent = engine._feed._recent
        read = recent.read
        entries_read = 0

        def counting(after_seq: int, limit: int):  # type: ignore[no-untyped-def]
            nonlocal entries_read
            out = read(after_seq, limit)
            entries_read += len(out or [])
            return out

        recent.read = counting  # type: ignore[method-assign]
        depths = {s.name: s.queue_depth for s in engine.status()}
        assert all(depths[f"quiet{i}"] == 0 for i in range(10))
        assert depths["busy"] == 0
        assert (
            entries_read < 500
        )  # was 5,000 (10 modules times 500): each quiet module read every new entry
