"""An engine process of a [cluster] for failover tests: steady load, a durable file transport.

Run: python -m tests.helpers.cluster_driver CONFIG OUT_FILE (run|drain)
It prints its webhook server's URL ("webhook <url>", with a [webhook] section), then
"started". ``run`` publishes events on this engine until killed (every engine of the cluster takes
load, as webhooks would); ``drain`` publishes nothing, waits until this engine runs every
module, each has caught up and the outbox is empty, then stops (releasing its leases).
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal
import sys
from pathlib import Path

from cove import Custom, Event, Publish, Source, load_config
from cove._app import App
from cove._observe._logging import configure_logging
from cove._sources._webhook_server import WebhookServer
from cove.errors import StoreError
from tests.helpers.crash_driver import FileTransport


class RetryingLoad(Source):
    """Events at a steady pace; one the engine could not journal (the database is away)
    is not accepted, and the load goes on, as webhook senders retry."""

    name = "load"

    async def run(self, publish: Publish) -> None:
        while True:
            try:
                await publish([Event(Custom("probe.tick", "", "{}")) for _ in range(5)])
            except StoreError:
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.02)


async def main(config_path: Path, out: Path, mode: str) -> None:
    faulthandler.register(signal.SIGUSR1)  # every thread's stack to the log, for a hung engine
    configure_logging("json", logging.WARNING)
    config = load_config(config_path)
    app = App(
        config,
        transports=[FileTransport(out)],
        sources=[RetryingLoad()] if mode == "run" else [],
    )
    await app.start()
    engine = app.engine
    webhook = next((s for s in engine.sources if isinstance(s, WebhookServer)), None)
    if webhook is not None:
        print(f"webhook {await webhook.wait_started()}", flush=True)
    print("started", flush=True)
    if mode == "run":
        await asyncio.Event().wait()
    placement = engine.placement
    assert placement is not None
    while True:
        head = engine.store.head()
        everything = set(engine.runners) == set(placement.modules)
        caught_up = all(
            r.position >= head and r.state.value == "running" for r in engine.runners.values()
        )
        if everything and caught_up and not engine.store.pending_effects(2**62, 1):
            break
        await asyncio.sleep(0.05)
    await app.stop()
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
