"""An anvil outage under a newHeads source: the node stops, comes back with its chain, nothing lost."""

from __future__ import annotations

from pathlib import Path

from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream
from tests.helpers.anvil import running_anvil
from tests.helpers.chain_source import Journal, Progress, assert_chain, running
from tests.helpers.engine import wait_until


async def test_a_restarted_node_is_resubscribed_and_the_gap_backfilled(tmp_path: Path) -> None:
    state = str(tmp_path / "anvil-state.json")  # --state: dumped on exit, loaded on start
    journal = Journal()
    with running_anvil("--state", state) as node:
        node.mine(3)
        chain = ChainSettings(
            chain_id=31337, http=node.http_url, ws=node.ws_url, poll_interval="20ms"
        )
        source = ChainSource(chain, Progress(), [Stream(0, blocks=True)])
        heads = source.heads
        assert heads is not None
        async with running(source, journal):
            await wait_until(lambda: heads.connected, what="the subscription")
            await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
            node.mine(2)
            await wait_until(lambda: journal.newest() == 5, what="blocks 4 and 5")
            node.process.terminate()
            node.process.wait()
            await wait_until(lambda: not heads.connected, what="the outage noticed")
            with running_anvil("--state", state, port=node.port) as again:
                again.mine(4)  # while the source is still backing off
                await wait_until(lambda: heads.connects == 2, what="the new subscription")
                again.mine(2)
                await wait_until(lambda: journal.newest() == 11, what="the backfill")
    blocks = journal.blocks()
    assert [b.number for b in blocks] == list(range(3, 12))
    assert_chain(blocks)
    assert len(journal.published) == len(set(journal.published))
