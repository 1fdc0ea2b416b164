"""A backfill step is one round trip after the head: headers and logs in one JSON-RPC batch.

On a provider every round trip is latency (and often a billed request): a
logs-only backfill reads its checkpoint header, the headers near the head
and the range's logs in one batch; a walk of every header takes each
batch's logs along. In-memory nodes count the POSTs.
"""

from __future__ import annotations

import json

import httpx

from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from cove._sources._chain_rpc import ChainReader
from tests.helpers.chain_source import Journal, Progress
from tests.unit.sources.test_chain_walk_properties import EMITTER, PRIMARY, Network


class Counted:
    """The network's answers, with the methods of each POST noted."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.posts: list[list[str]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls = body if isinstance(body, list) else [body]
        self.posts.append(sorted({call["method"] for call in calls}))
        return self.net.handle(request)


async def backfill(blocks: bool, mined: int) -> tuple[Counted, Journal, ChainSource]:
    net, journal = Network.start(2), Journal()
    counted = Counted(net)
    chain = ChainSettings(chain_id=1, http=PRIMARY)
    source = ChainSource(chain, Progress(), [Stream(0, blocks, (log_filter(EMITTER, []),))])
    async with httpx.AsyncClient(transport=httpx.MockTransport(counted.handle)) as client:
        source._reader = ChainReader(client, source.endpoints)
        await source.step(journal.publish)  # starts at the head, block 1
        net.mine(mined)
        counted.posts.clear()
        while not await source.step(journal.publish):
            pass
    assert source.position == 1 + mined
    assert [log.block_number for log in journal.logs()] == list(range(1, 2 + mined))
    return counted, journal, source


async def test_a_logs_only_backfill_to_the_head_is_its_head_then_one_batch() -> None:
    counted, _, _ = await backfill(blocks=False, mined=2_000)
    assert counted.posts == [
        ["eth_blockNumber"],
        ["eth_getBlockByNumber", "eth_getLogs"],
    ]


async def test_a_walk_of_every_header_asks_each_batch_s_logs_with_it() -> None:
    counted, journal, _ = await backfill(blocks=True, mined=400)
    assert counted.posts == [
        ["eth_blockNumber"],
        ["eth_getBlockByNumber", "eth_getLogs"],
    ]
    assert [block.number for block in journal.blocks()] == list(range(1, 402))
