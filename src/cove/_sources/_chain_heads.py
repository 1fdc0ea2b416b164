"""One ``eth_subscribe newHeads`` per chain over WebSocket: the chain source's wake-up signal.

The subscription only says "there is a new head, here is its header"; the
source then walks to it from its saved position exactly as the poller does
(taking the header as is when it is the very next block), so
a missed notification, a dropped connection or a reorg never costs a block,
and backfill, reorg handling and exactly-once stay one code path.

Why the ``websockets`` package rather than web3.py's WebSocket provider: the
source needs one number out of each raw notification and an event to wake
on. web3.py would run every header through its formatters (DESIGN.md: the
per-event path stays on raw JSON) and bring a dependency tree the engine
has no other use for; ``websockets`` is the well-kept asyncio WebSocket
library web3.py itself builds on. Its own reconnecting ``connect`` iterator
takes its backoff from process-wide environment variables (3 s at least);
this loop reconnects itself, from 100 ms on, rotating through the configured
URLs, while the source polls over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from .._redact import hosts_in, url_host
from ..errors import ChainRpcError, SubscribeRefused
from ._chain_json import Header, header

PING_SECONDS: Final = 5.0
"""Keepalive: a connection that answers no ping within this is dropped (and polled around)."""
INITIAL_BACKOFF_SECONDS: Final = 0.1
"""Wait before the first reconnection attempt; doubles per failure (±20% jitter)."""
MAX_BACKOFF_SECONDS: Final = 5.0
"""Longest wait between reconnection attempts."""
_SUBSCRIBE = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
)


class NewHeads:
    """Keeps a ``newHeads`` subscription open; ``changed`` is set on every head and state change."""

    def __init__(self, urls: Sequence[str], *, log: Any) -> None:
        self._urls = list(urls)
        self._log = log
        self.connected = False
        self.header: Header | None = None
        """The last head notified (None before the first on this connection)."""
        self.connects = 0
        """Subscriptions made (1 + reconnections), for health and tests."""
        self.changed = asyncio.Event()

    async def run(self) -> None:
        """Subscribe, read heads, reconnect with backoff; until cancelled."""
        failures = 0
        while True:
            at = failures % len(self._urls)
            url = self._urls[at]
            try:
                async with connect(
                    url, ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS, open_timeout=10
                ) as socket:
                    await self._subscribe(socket)
                    failures = 0
                    async for message in socket:
                        self._on_message(message)
                reason = "closed by the node"
            except (
                OSError,
                TimeoutError,
                WebSocketException,
                SubscribeRefused,
                ChainRpcError,
                ValueError,
            ) as exc:
                reason = f"{type(exc).__name__}: {hosts_in(str(exc))}"
            finally:
                if self.connected:
                    self.connected = False
                    self.changed.set()
            failures += 1
            delay = min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * 2 ** (failures - 1))
            delay *= random.uniform(0.8, 1.2)
            label = f"ws #{at} {url_host(url)}"  # never the URL: keys ride in it
            self._log.warning("newHeads subscription lost", ws=label, error=reason, retry_s=delay)
            await asyncio.sleep(delay)

    async def _subscribe(self, socket: ClientConnection) -> None:
        await socket.send(_SUBSCRIBE)
        answer = json.loads(await socket.recv())
        if not isinstance(answer, dict) or "result" not in answer:
            raise SubscribeRefused(f"eth_subscribe newHeads: {answer}")
        self.header = None  # a head from before the gap would be stale: ask HTTP until one comes
        self.connected = True
        self.connects += 1
        self.changed.set()
        self._log.info("newHeads subscribed", connects=self.connects)

    def _on_message(self, message: str | bytes) -> None:
        """A notification; anything else on the connection (garbage included) breaks it."""
        note = json.loads(message)
        params = note.get("params") if isinstance(note, dict) else None
        result = params.get("result") if isinstance(params, dict) else None
        self.header = header("newHeads", result)
        self.changed.set()
