"""An engine process for crash tests: a steady event source and a durable file transport.

Run: python -m tests.helpers.crash_driver CONFIG OUT_FILE (run|drain)
``run`` publishes events until killed; ``drain`` publishes nothing, waits
until every module has caught up and the outbox is empty, then exits 0.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cove import Custom, Engine, Event, Publish, Source, Transport, load_config
from cove._observe._logging import configure_logging


class FileTransport(Transport):
    """Appends each delivery to a file and fsyncs: what a real receiver would see."""

    def __init__(self, path: Path) -> None:
        self.name = "file"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        os.write(self._fd, (json.dumps({"key": idempotency_key, "body": body}) + "\n").encode())
        os.fsync(self._fd)


class SteadySource(Source):
    name = "steady"

    async def run(self, publish: Publish) -> None:
        while True:
            await publish([Event(Custom("probe.tick", "", '{"op": "count"}')) for _ in range(5)])
            await asyncio.sleep(0.002)


async def main(config_path: Path, out: Path, mode: str) -> None:
    configure_logging("json", logging.ERROR)
    engine = Engine(
        load_config(config_path),
        transports=[FileTransport(out)],
        sources=[SteadySource()] if mode == "run" else [],
    )
    await engine.start()
    if engine.load_errors:
        raise SystemExit(f"modules refused: {engine.load_errors}")
    print("started", flush=True)
    if mode == "run":
        await asyncio.Event().wait()
    while True:
        head = engine.store.head()
        caught_up = all(
            r.position >= head and r.state.value == "running" for r in engine.runners.values()
        )
        if caught_up and not engine.store.pending_effects(2**62, 1):
            break
        await asyncio.sleep(0.05)
    await engine.stop()
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
