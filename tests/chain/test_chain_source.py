"""The chain source against a real anvil: order, backfill after a restart, logs, reorgs."""

from __future__ import annotations

import json
import socket

import pytest
from structlog.testing import capture_logs

from cove import Block, Custom, Log
from cove._capabilities._chain import ChainBackend
from cove._config_chain import ChainSettings
from cove._manifest_subscriptions import BlockSubscription
from cove._sources._chain import ChainSource, Stream, chain_sources, log_filter
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


async def test_blocks_arrive_in_order_and_a_restart_backfills_the_gap(anvil: Anvil) -> None:
    progress, journal = Progress(), Journal()
    async with running(ChainSource(settings(anvil), progress, [Stream(0, blocks=True)]), journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        first = journal.blocks()[0].number
        anvil.mine(3)
        await wait_until(lambda: journal.newest() == head(anvil), what="3 blocks")
    anvil.mine(25)  # while the source is down
    async with running(ChainSource(settings(anvil), progress, [Stream(0, blocks=True)]), journal):
        await wait_until(lambda: journal.newest() == head(anvil), what="backfill")
    blocks = journal.blocks()
    assert [b.number for b in blocks] == list(range(first, head(anvil) + 1))
    assert_chain(blocks)
    assert journal.events[0].id == f"block:31337:{first}:{blocks[0].hash}"


async def test_logs_follow_their_block_in_log_index_order_and_filters_apply(
    anvil: Anvil,
) -> None:
    contract = deploy_emitter(anvil)
    wanted = f"0x{7:064x}"
    progress, journal = Progress(), Journal()
    wanted_logs = log_filter(contract.upper().replace("0X", "0x"), [wanted])
    source = ChainSource(settings(anvil), progress, [Stream(0, True, (wanted_logs,))])
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.rpc("evm_setAutomine", [False])
        try:
            for topic in (7, 8, 7):
                emit(anvil, contract, topic)
            anvil.mine(1)
        finally:
            anvil.rpc("evm_setAutomine", [True])
        await wait_until(lambda: len(journal.logs()) == 2, what="two logs")
    mined = journal.blocks()[-1]
    logs = journal.logs()
    assert [(log.block_number, log.log_index) for log in logs] == [
        (mined.number, 0),
        (mined.number, 2),
    ]
    assert all(log.address == contract and log.topics == (wanted,) for log in logs)
    kinds = [type(e.payload).__name__ for e in journal.events]
    assert kinds[-3:] == ["Block", "Log", "Log"]  # a block before its logs


async def test_a_reorg_is_announced_and_the_new_branch_delivered(anvil: Anvil) -> None:
    progress, journal = Progress(), Journal()
    async with running(ChainSource(settings(anvil), progress, [Stream(0, blocks=True)]), journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(4)
        tip = head(anvil)
        await wait_until(lambda: journal.newest() == tip, what="to the tip")
        old = {b.number: b.hash for b in journal.blocks()}
        anvil.rpc("anvil_reorg", [2, []])
        new_tip_hash = anvil.rpc("eth_getBlockByNumber", [hex(tip), False])["hash"]
        await wait_until(lambda: journal.blocks()[-1].hash == new_tip_hash, what="new branch")
    (reorg,) = [e for e in journal.events if isinstance(e.payload, Custom)]
    assert reorg.payload.name == "chain.reorg"
    signal = json.loads(reorg.payload.payload)
    assert (signal["from_block"], signal["to_block"]) == (tip - 1, tip)
    assert signal["dropped"] == [old[tip - 1], old[tip]]
    after = journal.events[journal.events.index(reorg) + 1 :]
    replaced = [e.payload for e in after if isinstance(e.payload, Block)]
    assert [b.number for b in replaced] == [tip - 1, tip]
    assert replaced[0].parent_hash == old[tip - 2]
    assert_chain(replaced)


async def test_logs_of_a_dropped_block_come_back_removed(anvil: Anvil) -> None:
    contract = deploy_emitter(anvil)
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, [Stream(0, False, (log_filter(contract, []),))])
    async with running(source, journal):
        await wait_until(lambda: source.position == head(anvil), what="the head")
        emit(anvil, contract, 9)
        await wait_until(lambda: len(journal.logs()) == 1, what="the log")
        anvil.rpc("anvil_reorg", [1, []])  # replaces the log's block, without its transaction
        await wait_until(lambda: len(journal.logs()) == 2, what="the removed log")
    delivered, removed = journal.logs()
    assert removed == Log(**{**_fields(delivered), "removed": True})
    kinds = [e.payload.name if isinstance(e.payload, Custom) else e.id for e in journal.events]
    assert kinds[1] == "chain.reorg"
    assert kinds[2] == f"log:31337:{delivered.block_hash}:{delivered.log_index}:removed:r1"


def _fields(log: Log) -> dict[str, object]:
    return {name: getattr(log, name) for name in Log.__dataclass_fields__}


async def test_a_dead_primary_endpoint_falls_back_without_a_gap_and_shows_in_provider_health(
    anvil: Anvil,
) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    chain = ChainSettings(
        chain_id=31337, http=dead, fallbacks=[anvil.http_url], poll_interval="20ms"
    )
    backend = ChainBackend([chain])
    progress, journal = Progress(), Journal()
    (source,) = chain_sources(
        [chain], [BlockSubscription(kind="block", chain_id=31337)], progress, backend.recorder
    )
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(3)
        await wait_until(lambda: journal.newest() == head(anvil), what="3 blocks")
    assert_chain(journal.blocks())
    (health,) = backend.health()
    primary, fallback = health["endpoints"]
    assert primary["requests"] == primary["errors"] > 0
    assert "ConnectError" in primary["last_error"]
    assert fallback["requests"] > 0 and fallback["errors"] == 0
    assert health["fallback_hits"] == fallback["requests"]
    backend.close()


def test_a_subscription_to_an_unconfigured_chain_is_a_warning_not_a_source() -> None:
    subs = [BlockSubscription(kind="block", chain_id=5)]
    with capture_logs() as logs:
        assert chain_sources([], subs, Progress()) == []
    assert [(e["log_level"], e["chain"]) for e in logs] == [("warning", 5)]
    assert "[[chains]]" in logs[0]["event"]


@pytest.mark.parametrize("newheads", [False, True], ids=["polling", "newheads"])
async def test_a_chain_reverted_to_a_lower_head_is_waited_out_then_a_reorg_once_a_block_differs(
    anvil: Anvil, newheads: bool
) -> None:
    # evm_revert shortens the chain: the walked blocks above the new head are gone
    # without a block at their height to compare, and newHeads says nothing of it.
    # A lower head alone is lag (a load balancer's backend behind): the walk waits;
    # the next block mined has a hash the walk had not, and that is the reorg.
    chain = settings(anvil)
    if newheads:
        chain = chain.model_copy(update={"ws": anvil.ws_url})
    progress, journal = Progress(), Journal()
    source = ChainSource(chain, progress, [Stream(0, blocks=True)])
    async with running(source, journal):
        heads = source.heads
        await wait_until(lambda: heads is None or heads.connected, what="the subscription")
        await wait_until(lambda: source.position == head(anvil), what="the head")
        snapshot = anvil.rpc("evm_snapshot")
        base = head(anvil)
        anvil.mine(3)
        await wait_until(lambda: source.position == base + 3, what="3 blocks")
        dropped = [b.hash for b in journal.blocks()[-3:]]
        anvil.rpc("evm_revert", [snapshot])
        await wait_until(lambda: source.waiting is not None, what="the wait for the head")
        assert source.position == base + 3
        assert not [e for e in journal.events if isinstance(e.payload, Custom)]
        anvil.mine(1)
        await wait_until(lambda: source.position == base + 1, what="the walk onto the new block")
    (reorg,) = [e.payload for e in journal.events if isinstance(e.payload, Custom)]
    signal = json.loads(reorg.payload)
    assert (signal["from_block"], signal["to_block"], signal["ancestor"]) == (
        base + 1,
        base + 3,
        base,
    )
    assert signal["dropped"] == dropped
    assert (
        journal.blocks()[-1].hash
        == anvil.rpc("eth_getBlockByNumber", [hex(base + 1), False])["hash"]
    )
