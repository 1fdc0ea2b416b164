"""The newHeads fast path takes a block's logs only from an endpoint that has reached it.

A header announced over newHeads is walked without asking for it; its logs
are asked by its hash. A fallback behind that block may answer ``[]`` for a
hash it does not know (some providers do): taken, the block's logs would be
lost for good. In-memory nodes answer through the source's own HTTP client.
"""

from __future__ import annotations

import httpx
import structlog
from structlog.testing import capture_logs

from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from cove._sources._chain_heads import NewHeads
from cove._sources._chain_rpc import ChainReader
from tests.helpers.chain_source import Journal, Progress
from tests.unit.sources.test_chain_walk_properties import EMITTER, PRIMARY, REPLICA, Network


async def test_a_lagging_fallback_answering_no_logs_for_an_unknown_hash_loses_no_log() -> None:
    net, journal = Network.start(4), Journal()
    net.replica.unknown_hash_empty = True
    chain = ChainSettings(chain_id=1, http=PRIMARY, fallbacks=[REPLICA], ws="ws://primary.test")
    source = ChainSource(chain, Progress(), [Stream(0, True, (log_filter(EMITTER, []),))])
    heads = source.heads = NewHeads(["ws://primary.test"], log=structlog.get_logger())
    heads.connected = True
    async with httpx.AsyncClient(transport=httpx.MockTransport(net.handle)) as client:
        source._reader = ChainReader(client, source.endpoints)
        await source.step(journal.publish)
        assert source.position == 3
        net.mine(1)  # block 4, announced by the primary's newHeads; the replica lacks it
        heads.header = net.primary.blocks[4]
        net.primary.up = False  # the primary goes down before its logs are asked
        await source.step(journal.publish)
        assert [log.block_number for log in journal.logs()] == [3]
        net.sync_replica(-1)  # the replica catches up
        for _ in range(3):
            await source.step(journal.publish)
    assert source.position == 4
    assert [(log.block_number, log.block_hash) for log in journal.logs()] == [
        (3, net.primary.blocks[3].hash),
        (4, net.primary.blocks[4].hash),
    ]


async def test_health_says_the_walk_waits_while_only_the_announced_block_is_out_of_reach() -> None:
    net, journal = Network.start(4), Journal()
    chain = ChainSettings(chain_id=1, http=PRIMARY, fallbacks=[REPLICA], ws="ws://primary.test")
    with capture_logs() as logged:  # around the source's making: its logger binds the capture
        source = ChainSource(chain, Progress(), [Stream(0, True, (log_filter(EMITTER, []),))])
        heads = source.heads = NewHeads(["ws://primary.test"], log=structlog.get_logger())
        heads.connected = True
        async with httpx.AsyncClient(transport=httpx.MockTransport(net.handle)) as client:
            source._reader = ChainReader(client, source.endpoints)
            await source.step(journal.publish)
            net.mine(1)
            heads.header = net.primary.blocks[4]
            net.primary.up = False  # the replica, at the walked block 3, is all that answers
            await source.step(journal.publish)
            await source.step(journal.publish)  # still waiting: said once
            waiting = source.health()["waiting"]
            assert waiting is not None and "block 4" in waiting
            assert "#1 replica.test at 3" in waiting
            net.sync_replica(-1)
            await source.step(journal.publish)
    assert source.position == 4
    assert source.health()["waiting"] is None
    said = [e for e in logged if e["event"] == "chain source waits for an endpoint to catch up"]
    assert [e["why"] for e in said] == [waiting]
