"""Per-subscription confirmations: one source, one walk, each depth its own gap-free stream.

What a reorg means for a deep subscriber: one shallower than its depth is
absorbed before the stream reaches the replaced blocks (it sees no reorg and
no removed log); one that reaches blocks it already had is announced to it
with ``removed`` logs at its depth, as at the head.
"""

from __future__ import annotations

import json

from cove import Block, Custom
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


def canonical_hash(anvil: Anvil, number: int) -> str:
    return str(anvil.rpc("eth_getBlockByNumber", [hex(number), False])["hash"])


def reorgs(journal: Journal) -> list[dict[str, object]]:
    return [
        json.loads(e.payload.payload)
        for e in journal.events
        if isinstance(e.payload, Custom) and e.payload.name == "chain.reorg"
    ]


async def test_each_depth_gets_every_block_once_and_only_that_deep(anvil: Anvil) -> None:
    anvil.mine(5)  # a chain at least as long as the depth
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, [Stream(0, True), Stream(3, True)])
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks(3)) == 1, what="the first deep block")
        start = head(anvil)
        assert [b.number for b in journal.blocks(0)] == [start]
        assert [b.number for b in journal.blocks(3)] == [start - 3]
        anvil.mine(6)
        await wait_until(lambda: journal.blocks(3)[-1].number == head(anvil) - 3, what="6 more")
        await wait_until(lambda: journal.blocks(0)[-1].number == head(anvil), what="the head")
    anvil.mine(4)  # while the source is down: both depths backfill from their own positions
    async with running(ChainSource(settings(anvil), progress, source._streams), journal):
        await wait_until(lambda: journal.blocks(3)[-1].number == head(anvil) - 3, what="backfill")
        await wait_until(lambda: journal.blocks(0)[-1].number == head(anvil), what="backfill")
    for depth, first in ((0, start), (3, start - 3)):
        blocks = journal.blocks(depth)
        assert [b.number for b in blocks] == list(range(first, head(anvil) - depth + 1))
        assert all(b.hash == canonical_hash(anvil, b.number) for b in blocks)
        assert_chain(blocks)
    assert len(journal.published) == len(set(journal.published))
    assert source.lag()[1].behind == 0


async def test_a_reorg_shallower_than_the_depth_never_reaches_the_deep_stream(
    anvil: Anvil,
) -> None:
    contract = deploy_emitter(anvil)
    logs = (log_filter(contract, []),)
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, [Stream(0, True, logs), Stream(3, True, logs)])
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks(0)) == 1, what="the head")
        emit(anvil, contract, 5)
        await wait_until(lambda: len(journal.logs(0)) == 1, what="the log at the head")
        tip = head(anvil)
        anvil.rpc("anvil_reorg", [2, []])  # the log's block is replaced without its transaction
        await wait_until(lambda: len(journal.logs(0)) == 2, what="the removed log")
        anvil.mine(5)
        await wait_until(lambda: journal.blocks(3)[-1].number == head(anvil) - 3, what="deep")
    assert [r["confirmations"] for r in reorgs(journal)] == [[0]]
    assert [log.removed for log in journal.logs(0)] == [False, True]
    assert journal.logs(3) == []  # the deep stream never saw the dropped log
    deep = journal.blocks(3)
    assert {tip - 1, tip} <= {b.number for b in deep}
    assert all(b.hash == canonical_hash(anvil, b.number) for b in deep)
    assert_chain(deep)


async def test_a_reorg_deeper_than_the_depth_removes_what_the_deep_stream_had(
    anvil: Anvil,
) -> None:
    contract = deploy_emitter(anvil)
    logs = (log_filter(contract, []),)
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, [Stream(0, True, logs), Stream(1, True, logs)])
    async with running(source, journal):
        await wait_until(lambda: len(journal.blocks(0)) == 1, what="the head")
        emit(anvil, contract, 6)
        anvil.mine(1)
        await wait_until(lambda: len(journal.logs(1)) == 1, what="the log one deep")
        (delivered,) = journal.logs(1)
        anvil.rpc("anvil_reorg", [3, []])
        await wait_until(lambda: len(journal.logs(1)) == 2, what="the removed log, one deep")
        anvil.mine(2)
        await wait_until(lambda: journal.blocks(1)[-1].number == head(anvil) - 1, what="on")
    (signal,) = reorgs(journal)
    assert signal["confirmations"] == [0, 1]
    removed = journal.logs(1)[1]
    assert (removed.removed, removed.block_hash, removed.log_index) == (
        True,
        delivered.block_hash,
        delivered.log_index,
    )
    at = journal.events.index(next(e for e in journal.events if isinstance(e.payload, Custom)))
    replaced = [
        e.payload
        for e in journal.events[at:]
        if isinstance(e.payload, Block) and e.payload.confirmations == 1
    ]
    assert replaced[0].number == signal["ancestor"] + 1
    assert_chain(replaced)
    assert all(b.hash == canonical_hash(anvil, b.number) for b in replaced)


async def test_a_depth_asked_for_again_later_starts_at_now(anvil: Anvil) -> None:
    anvil.mine(3)
    progress, journal = Progress(), Journal()
    both, head_only = [Stream(0, True), Stream(2, True)], [Stream(0, True)]
    async with running(ChainSource(settings(anvil), progress, both), journal):
        await wait_until(lambda: len(journal.blocks(2)) == 1, what="the first deep block")
    anvil.mine(200)  # more than the headers kept: the old depth-2 position is out of reach
    async with running(ChainSource(settings(anvil), progress, head_only), journal):
        await wait_until(lambda: journal.blocks(0)[-1].number == head(anvil), what="backfill")
    before = len(journal.blocks(2))
    source = ChainSource(settings(anvil), progress, both)
    async with running(source, journal):
        await wait_until(lambda: source.head == head(anvil), what="the restart")
        anvil.mine(1)  # a new depth joins the walk with its next block
        await wait_until(lambda: len(journal.blocks(2)) > before, what="depth 2 again")
    assert [b.number for b in journal.blocks(2)[before:]] == [head(anvil) - 2]
    assert_chain(journal.blocks(0))
