"""One engine process of bench/cluster.py: waits for the bench's go files, publishes its share.

Run: python bench/_cluster_engine.py CONFIG OUT_FILE GO_DIR BURST_EVENTS STEADY_RATE STEADY_S
On ``GO_DIR/burst`` it publishes BURST_EVENTS as fast as it can (batches of 50); on
``GO_DIR/steady`` STEADY_RATE events/s for STEADY_S seconds. Every delivered effect is a
line "<phase> <publish-to-effect ms>" in OUT_FILE.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cove import Custom, Engine, Event, Publish, Source, Transport, load_config
from cove._observe._logging import configure_logging


class TimingTransport(Transport):
    def __init__(self, path: Path) -> None:
        self.name = "timing"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        sent = json.loads(body)
        ms = (time.time() - sent["t"]) * 1000
        os.write(self._fd, f"{sent['p']} {ms:.3f}\n".encode())


def _events(phase: str, n: int) -> list[Event]:
    body = json.dumps({"t": time.time(), "p": phase})
    return [Event(Custom("bench.tick", "", body)) for _ in range(n)]


class Load(Source):
    name = "bench-load"

    def __init__(self, go: Path, burst: int, rate: float, seconds: float) -> None:
        self._go, self._burst, self._rate, self._seconds = go, burst, rate, seconds

    async def _wait(self, name: str) -> None:
        while not (self._go / name).exists():
            await asyncio.sleep(0.01)

    async def run(self, publish: Publish) -> None:
        await self._wait("burst")
        left = self._burst
        while left > 0:
            await publish(_events("burst", min(50, left)))
            left -= 50
        await self._wait("steady")
        if self._rate <= 0:
            return
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < self._seconds:
            due = int((time.monotonic() - start) * self._rate) - sent
            if due > 0:
                await publish(_events("steady", due))
                sent += due
            await asyncio.sleep(0.005)


async def main() -> None:
    config, out, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    burst, rate, seconds = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    configure_logging("json", logging.ERROR)
    engine = Engine(
        load_config(config),
        transports=[TimingTransport(out)],
        sources=[Load(go, burst, rate, seconds)],
    )
    await engine.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
