"""A lagging fallback is never a reorg: a primary and a replica loaded from an older dump.

The primary stops mid-stream; the replica behind it answers. The source must
wait (no removed log, no ``chain.reorg``, no position moved back) and carry
on once either endpoint is ahead again: the primary back from its state
file, or the replica loaded with the primary's newer chain.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cove import Custom, Log
from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from tests.helpers.anvil import Anvil, running_anvil
from tests.helpers.chain_source import (
    Journal,
    Progress,
    assert_chain,
    deploy_emitter,
    emit,
    head,
    running,
    scrape,
)
from tests.helpers.engine import wait_until

DEEP = 4
"""A second depth, as an operator would run with ``confirmations = 4``."""
MODES = [
    pytest.param(False, False, id="polling"),
    pytest.param(True, False, id="newheads"),
    pytest.param(False, True, id="polling-traffic"),
    pytest.param(True, True, id="newheads-traffic"),
]


class Requests:
    """Requests per endpoint index, as the source's recorder is told of them."""

    def __init__(self) -> None:
        self.ok: Counter[int] = Counter()

    def __call__(self, index: int, latency_ms: float, error: str | None) -> None:
        if error is None:
            self.ok[index] += 1


def replica_of(primary: Anvil, replica: Anvil) -> None:
    """Load the primary's chain as it is now into the replica (the same blocks, same hashes)."""
    replica.rpc("anvil_loadState", [primary.rpc("anvil_dumpState")])
    tip = head(primary)
    assert head(replica) == tip
    mine = primary.rpc("eth_getBlockByNumber", [hex(tip), False])["hash"]
    assert replica.rpc("eth_getBlockByNumber", [hex(tip), False])["hash"] == mine


def assert_no_rewind(journal: Journal) -> None:
    """No reorg, no removed log at any depth, each depth's blocks in order once."""
    assert [e for e in journal.events if isinstance(e.payload, Custom)] == []
    assert [e for e in journal.events if isinstance(e.payload, Log) and e.payload.removed] == []
    assert_chain(journal.blocks())
    assert_chain(journal.blocks(DEEP))
    assert len(journal.published) == len(set(journal.published))


@pytest.mark.parametrize(("newheads", "traffic"), MODES)
async def test_a_lagging_fallback_while_the_primary_is_down_is_waited_out_not_a_reorg(
    tmp_path: Path, newheads: bool, traffic: bool
) -> None:
    state = str(tmp_path / "primary.json")
    journal = Journal()
    with running_anvil("--state", state) as primary, running_anvil() as replica:
        contract = deploy_emitter(primary)
        replica_of(primary, replica)  # the replica stops here: everything after is primary-only
        chain = ChainSettings(
            chain_id=31337,
            http=primary.http_url,
            ws=primary.ws_url if newheads else None,
            fallbacks=[replica.http_url],
            poll_interval="20ms",
        )
        requests = Requests()
        logs = (log_filter(contract, []),)
        streams = [Stream(0, True, logs), Stream(DEEP, True, logs)]
        source = ChainSource(chain, Progress(), streams, record=requests)
        async with running(source, journal):
            await wait_until(lambda: source.position == head(primary), what="the head")
            for topic in range(1, 11):
                emit(primary, contract, topic)
            # anvil mines each transaction a moment after answering: wait for all ten.
            await wait_until(lambda: len(journal.logs()) == 10, what="ten logs")
            tip = head(primary)
            await wait_until(lambda: source.position == tip, what="the tip")
            primary.process.terminate()
            primary.process.wait()
            asked = requests.ok[1]
            if traffic:
                replica.mine(3)  # the replica moves on, but stays below the walked position
            await wait_until(lambda: requests.ok[1] >= asked + 10, what="the replica asked")
            assert source.position == tip
            assert_no_rewind(journal)
            waiting = source.health()["waiting"]
            assert f"#1 127.0.0.1:{replica.port} at {head(replica)}" in waiting
            assert 'cove_chain_waiting{chain="31337"} 1.0' in scrape(source)
            with running_anvil("--state", state, port=primary.port) as again:
                again.mine(DEEP)  # the deep stream reaches the last log
                await wait_until(lambda: source.position == tip + DEEP, what="the primary's return")
                assert source.waiting is None
                assert 'cove_chain_waiting{chain="31337"} 0.0' in scrape(source)
    assert [int(log.topics[0], 16) for log in journal.logs()] == list(range(1, 11))
    assert [int(log.topics[0], 16) for log in journal.logs(DEEP)] == list(range(1, 11))
    assert_no_rewind(journal)


async def test_a_lagging_fallback_that_catches_up_serves_the_walk(tmp_path: Path) -> None:
    journal = Journal()
    with running_anvil() as primary, running_anvil() as replica:
        contract = deploy_emitter(primary)
        replica_of(primary, replica)
        chain = ChainSettings(
            chain_id=31337,
            http=primary.http_url,
            fallbacks=[replica.http_url],
            poll_interval="20ms",
        )
        requests = Requests()
        streams = [Stream(0, True, (log_filter(contract, []),))]
        source = ChainSource(chain, Progress(), streams, record=requests)
        async with running(source, journal):
            await wait_until(lambda: source.position == head(primary), what="the head")
            for topic in range(1, 6):
                emit(primary, contract, topic)
            await wait_until(lambda: len(journal.logs()) == 5, what="five logs")
            primary.mine(2)
            tip = head(primary)
            await wait_until(lambda: source.position == tip, what="the primary's blocks")
            dump = primary.rpc("anvil_dumpState")
            primary.process.terminate()
            primary.process.wait()
            asked = requests.ok[1]
            await wait_until(lambda: requests.ok[1] >= asked + 10, what="the replica asked")
            assert source.position == tip
            replica.rpc("anvil_loadState", [dump])  # caught up: the primary's chain
            replica.mine(3)
            await wait_until(lambda: source.position == tip + 3, what="the replica ahead")
    assert [int(log.topics[0], 16) for log in journal.logs()] == list(range(1, 6))
    assert all(isinstance(log, Log) and not log.removed for log in journal.logs())
    assert_no_rewind(journal)
