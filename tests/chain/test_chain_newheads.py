"""The chain source woken by anvil's WebSocket newHeads: delivery, a dropped connection, polling."""

from __future__ import annotations

import json

import httpx
from websockets.asyncio.server import ServerConnection, serve

from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from tests.helpers.anvil import Anvil
from tests.helpers.chain_source import (
    Journal,
    Progress,
    assert_chain,
    deploy_emitter,
    emit,
    head,
    running,
    settings,
)
from tests.helpers.engine import wait_until
from tests.helpers.tcp_proxy import TcpProxy, tcp_proxy

BLOCKS = [Stream(0, blocks=True)]


def through(proxy: TcpProxy, anvil: Anvil) -> ChainSettings:
    """HTTP straight to anvil, the WebSocket through the proxy; polling every 20 ms."""
    ws = f"ws://127.0.0.1:{proxy.port}"
    return ChainSettings(chain_id=31337, http=anvil.http_url, ws=ws, poll_interval="20ms")


async def test_newheads_wakes_the_source_when_polling_never_would(anvil: Anvil) -> None:
    # An hour between polls: only the subscription can bring the next blocks in time.
    chain = ChainSettings(chain_id=31337, http=anvil.http_url, ws=anvil.ws_url, poll_interval="1h")
    source, journal = ChainSource(chain, Progress(), BLOCKS), Journal()
    async with running(source, journal):
        assert source.heads is not None
        await wait_until(lambda: source.heads.connected, what="the subscription")
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        for _ in range(3):
            anvil.mine(1)
        await wait_until(lambda: journal.newest() == head(anvil), what="3 blocks")
        assert source.heads.connects == 1
    assert_chain(journal.blocks())
    assert len(journal.published) == len(set(journal.published))


async def test_a_dropped_websocket_polls_meanwhile_then_reconnects_without_gap_or_repeat(
    anvil: Anvil,
) -> None:
    async with tcp_proxy(anvil.port) as proxy:
        chain = through(proxy, anvil)
        source, journal = ChainSource(chain, Progress(), BLOCKS), Journal()
        async with running(source, journal):
            heads = source.heads
            assert heads is not None
            await wait_until(lambda: heads.connected, what="the subscription")
            anvil.mine(2)
            await wait_until(lambda: journal.newest() == head(anvil), what="2 blocks")

            await proxy.cut()
            await wait_until(lambda: not heads.connected, what="the drop noticed")
            anvil.mine(5)
            await wait_until(lambda: journal.newest() == head(anvil), what="polled")
            assert not heads.connected  # those five came by polling

            await proxy.listen()
            anvil.mine(4)  # mined while it reconnects: backfilled, whichever wakes first
            await wait_until(lambda: heads.connects == 2, what="the reconnect")
            anvil.mine(3)
            await wait_until(lambda: journal.newest() == head(anvil), what="live")
    blocks = journal.blocks()
    assert_chain(blocks)
    assert blocks[-1].number - blocks[0].number + 1 == len(blocks)
    assert len(journal.published) == len(set(journal.published))


async def test_without_a_ws_endpoint_the_source_polls(anvil: Anvil) -> None:
    source, journal = ChainSource(settings(anvil), Progress(), BLOCKS), Journal()
    assert source.heads is None
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(3)
        await wait_until(lambda: journal.newest() == head(anvil), what="3 blocks")
    assert_chain(journal.blocks())


async def test_an_unreachable_ws_endpoint_leaves_the_source_polling(anvil: Anvil) -> None:
    async with tcp_proxy(anvil.port) as proxy:
        await proxy.cut()  # nothing accepts on its port
        chain = through(proxy, anvil)
        source, journal = ChainSource(chain, Progress(), BLOCKS), Journal()
        async with running(source, journal):
            await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
            anvil.mine(3)
            await wait_until(lambda: journal.newest() == head(anvil), what="3 blocks")
            assert source.heads is not None and source.heads.connects == 0
    assert_chain(journal.blocks())


async def test_logs_of_an_announced_head_arrive_in_order(anvil: Anvil) -> None:
    contract = deploy_emitter(anvil)
    chain = ChainSettings(chain_id=31337, http=anvil.http_url, ws=anvil.ws_url, poll_interval="1h")
    streams = [Stream(0, True, (log_filter(contract, []),))]
    source, journal = ChainSource(chain, Progress(), streams), Journal()
    async with running(source, journal):
        assert source.heads is not None
        await wait_until(lambda: source.heads.connected, what="the subscription")
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        for topic in (1, 2, 3):
            emit(anvil, contract, topic)
        await wait_until(lambda: len(journal.logs()) == 3, what="three logs")
    logs = journal.logs()
    assert [int(log.topics[0], 16) for log in logs] == [1, 2, 3]
    blocks = {b.hash: b.number for b in journal.blocks()}
    assert [blocks[log.block_hash] for log in logs] == [log.block_number for log in logs]
    kinds = [type(e.payload).__name__ for e in journal.events]
    assert kinds[-6:] == ["Block", "Log"] * 3  # each block before its log


class CountingTransport(httpx.AsyncHTTPTransport):
    """A real HTTP transport that notes the JSON-RPC methods sent through it."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.methods.extend(call["method"] for call in (body if isinstance(body, list) else [body]))
        return await super().handle_async_request(request)


async def test_an_announced_head_is_walked_without_asking_the_node_again(anvil: Anvil) -> None:
    counting = CountingTransport()
    chain = ChainSettings(chain_id=31337, http=anvil.http_url, ws=anvil.ws_url)
    source, journal = ChainSource(chain, Progress(), BLOCKS, transport=counting), Journal()
    async with running(source, journal):
        assert source.heads is not None
        await wait_until(lambda: source.heads.connected, what="the subscription")
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(1)  # once this one is in, the step the connection woke (over HTTP) is done
        await wait_until(lambda: journal.newest() == head(anvil), what="a head")
        counting.methods.clear()
        for _ in range(3):
            anvil.mine(1)
            await wait_until(lambda: journal.newest() == head(anvil), what="a head")
        # The header came with the note; only a recheck after a quiet second on a
        # stalled machine could ask for the head or a block, never one request per head.
        assert counting.methods.count("eth_getBlockByNumber") < 3
        assert counting.methods.count("eth_blockNumber") < 3
    assert_chain(journal.blocks())


async def test_a_subscription_that_goes_quiet_does_not_stall_the_source(anvil: Anvil) -> None:
    # A node may drop a subscription on its side and keep the connection (and
    # its pings) alive: newHeads stays "connected" and says nothing again.
    async def one_head_then_nothing(socket: ServerConnection) -> None:
        request = json.loads(await socket.recv())
        await socket.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x1"}))
        latest = anvil.rpc("eth_getBlockByNumber", ["latest", False])
        note = {"subscription": "0x1", "result": latest}
        await socket.send(
            json.dumps({"jsonrpc": "2.0", "method": "eth_subscription", "params": note})
        )
        await socket.wait_closed()

    async with serve(one_head_then_nothing, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        chain = ChainSettings(
            chain_id=31337, http=anvil.http_url, ws=f"ws://127.0.0.1:{port}", poll_interval="1h"
        )
        source, journal = ChainSource(chain, Progress(), BLOCKS), Journal()
        async with running(source, journal):
            heads = source.heads
            assert heads is not None
            await wait_until(lambda: heads.header is not None, what="the one head announced")
            await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
            anvil.mine(2)
            await wait_until(lambda: journal.newest() == head(anvil), what="2 blocks")
            assert heads.connected and heads.connects == 1  # the same quiet subscription
    assert_chain(journal.blocks())
