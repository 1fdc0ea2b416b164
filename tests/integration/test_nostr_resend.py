"""A DM retried after a restart is the same nostr event (same id, same bytes): a relay
answers ``duplicate`` and keeps one, and the receiver's journal takes it once.

The first attempt reaches the relay through a proxy that drops the relay's
``OK`` answers, so the outbox keeps the send; the engine stops before any
retry succeeds, and the restarted engine, now talking to the relay itself,
sends it again (real nostr-relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from cove._nostr._keys import NostrKey, npub
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.nostr_relay import Relay, relay
from tests.integration.test_nostr_dms import _connected, _dm, _engine, keys, keystores

__all__ = ["keys", "keystores", "relay"]  # the fixtures


@contextlib.asynccontextmanager
async def _ok_dropping_proxy(relay: Relay) -> AsyncIterator[str]:
    """A WebSocket proxy in front of ``relay`` that passes everything but ``OK`` answers."""

    async def pipe(client: ServerConnection) -> None:
        async with connect(relay.url) as upstream:

            async def up() -> None:
                async for frame in client:
                    await upstream.send(frame)

            async def down() -> None:
                async for frame in upstream:
                    if json.loads(frame)[0] != "OK":
                        await client.send(frame)

            tasks = {asyncio.ensure_future(up()), asyncio.ensure_future(down())}
            _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:  # one side closed: so does the other
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async with serve(pipe, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_a_dm_resent_after_a_restart_is_byte_identical(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    alice = keys["alice"].pubkey.hex()
    async with _ok_dropping_proxy(relay) as proxy:
        config = _engine(tmp_path / "a", [proxy], {"alice": False}, tmp_path / "keys")
        async with running_engine(config) as engine:
            await _connected(engine)
            await engine.publish([_dm("alice", npub(keys["carol"].pubkey), "one offer, once")])
            await wait_until(lambda: engine.outbox.failures["dm"] >= 1, what="no OK in time")
    [first] = await relay.query({"kinds": [4], "authors": [alice]})  # it did arrive
    config.write_text(config.read_text().replace(proxy, relay.url))
    async with running_engine(config) as engine:
        await wait_until(lambda: engine.outbox.delivered == 1, what="the retry")
    assert [first] == await relay.query({"kinds": [4], "authors": [alice]})
