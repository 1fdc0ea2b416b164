"""The chain source against a real anvil: order, backfill after a restart, logs, reorgs."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from structlog.testing import capture_logs

from cove import Block, Custom, Event, Log
from cove._config_chain import ChainSettings
from cove._manifest import BlockSubscription
from cove._sources._chain import ChainSource, chain_sources, log_filter
from tests.helpers.anvil import Anvil
from tests.helpers.engine import wait_until

DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
# Init code of a contract whose runtime (60003560006000a100) emits LOG1 with
# the first calldata word as its topic and no data.
EMITTER_INIT = "0x6860003560006000a10060005260096017f3"


class Progress:
    """The store's source_state, in memory."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


class Journal:
    """What a source published, deduplicated by event id as the journal does."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._ids: set[str] = set()

    async def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.id not in self._ids:
                self._ids.add(event.id)
                self.events.append(event)

    def blocks(self) -> list[Block]:
        return [e.payload for e in self.events if isinstance(e.payload, Block)]

    def logs(self) -> list[Log]:
        return [e.payload for e in self.events if isinstance(e.payload, Log)]


@asynccontextmanager
async def running(source: ChainSource, journal: Journal) -> AsyncIterator[ChainSource]:
    task = asyncio.create_task(source.run(journal.publish))
    try:
        yield source
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def settings(anvil: Anvil) -> ChainSettings:
    return ChainSettings(chain_id=31337, http=anvil.http_url, poll_interval="20ms")


def head(anvil: Anvil) -> int:
    return int(anvil.rpc("eth_blockNumber"), 16)


def deploy_emitter(anvil: Anvil) -> str:
    tx = anvil.rpc("eth_sendTransaction", [{"from": DEV, "data": EMITTER_INIT}])
    return str(anvil.receipt(tx)["contractAddress"]).lower()


def emit(anvil: Anvil, contract: str, topic: int) -> None:
    anvil.rpc("eth_sendTransaction", [{"from": DEV, "to": contract, "data": f"0x{topic:064x}"}])


def assert_chain(blocks: list[Block]) -> None:
    """Consecutive numbers, each block's parent the one before: no gap, no duplicate."""
    for before, after in itertools.pairwise(blocks):
        assert (after.number, after.parent_hash) == (before.number + 1, before.hash)


async def test_blocks_arrive_in_order_and_a_restart_backfills_the_gap(anvil: Anvil) -> None:
    progress, journal = Progress(), Journal()
    async with running(ChainSource(settings(anvil), progress, blocks=True), journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        first = journal.blocks()[0].number
        anvil.mine(3)
        await wait_until(lambda: journal.blocks()[-1].number == head(anvil), what="3 blocks")
    anvil.mine(25)  # while the source is down
    async with running(ChainSource(settings(anvil), progress, blocks=True), journal):
        await wait_until(lambda: journal.blocks()[-1].number == head(anvil), what="backfill")
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
    source = ChainSource(
        settings(anvil),
        progress,
        blocks=True,
        filters=[log_filter(contract.upper().replace("0X", "0x"), [wanted])],
    )
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
    async with running(ChainSource(settings(anvil), progress, blocks=True), journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(4)
        tip = head(anvil)
        await wait_until(lambda: journal.blocks()[-1].number == tip, what="to the tip")
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
    source = ChainSource(
        settings(anvil), progress, blocks=False, filters=[log_filter(contract, [])]
    )
    async with running(source, journal):
        await wait_until(lambda: source.position == head(anvil), what="the head")
        emit(anvil, contract, 9)
        await wait_until(lambda: len(journal.logs()) == 1, what="the log")
        anvil.rpc("anvil_reorg", [1, []])  # replaces the log's block, without its transaction
        await wait_until(lambda: len(journal.logs()) == 2, what="the removed log")
    delivered, removed = journal.logs()
    assert removed == Log(**{**_fields(delivered), "removed": True})
    kinds = [e.payload.name if isinstance(e.payload, Custom) else e.id for e in journal.events]
    assert kinds[1] == "chain.reorg" and kinds[2].endswith(":removed")


def _fields(log: Log) -> dict[str, object]:
    return {name: getattr(log, name) for name in Log.__dataclass_fields__}


async def test_confirmations_hold_blocks_back_until_enough_are_on_top(anvil: Anvil) -> None:
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, blocks=True, confirmations=3)
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the first block")
        assert journal.blocks()[0].number == head(anvil) - 3
        anvil.mine(5)
        await wait_until(lambda: journal.blocks()[-1].number == head(anvil) - 3, what="5 more")
        assert source.head == head(anvil)
    assert_chain(journal.blocks())


async def test_a_dead_primary_endpoint_falls_back_without_a_gap(anvil: Anvil) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    chain = ChainSettings(
        chain_id=31337, http=dead, fallbacks=[anvil.http_url], poll_interval="20ms"
    )
    progress, journal = Progress(), Journal()
    async with running(ChainSource(chain, progress, blocks=True), journal):
        await wait_until(lambda: len(journal.blocks()) == 1, what="the head")
        anvil.mine(3)
        await wait_until(lambda: journal.blocks()[-1].number == head(anvil), what="3 blocks")
    assert_chain(journal.blocks())


def test_a_subscription_to_an_unconfigured_chain_is_a_warning_not_a_source() -> None:
    subs = [BlockSubscription(kind="block", chain_id=5)]
    with capture_logs() as logs:
        assert chain_sources([], subs, Progress()) == []
    assert [(e["log_level"], e["chain"]) for e in logs] == [("warning", 5)]
    assert "[[chains]]" in logs[0]["event"]
