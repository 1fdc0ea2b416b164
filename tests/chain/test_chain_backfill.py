"""Backfill on anvil: with only log subscriptions, blocks far below the head cost no headers."""

from __future__ import annotations

from cove._sources._chain import ChainSource, Stream, log_filter
from cove._sources._chain_walk import HISTORY
from tests.chain.test_chain_newheads import CountingTransport
from tests.helpers.anvil import Anvil
from tests.helpers.chain_source import (
    Journal,
    Progress,
    deploy_emitter,
    emit,
    head,
    running,
    settings,
)
from tests.helpers.engine import wait_until


async def test_a_logs_only_backfill_reads_checkpoints_not_every_header(anvil: Anvil) -> None:
    contract = deploy_emitter(anvil)
    streams = [Stream(0, False, (log_filter(contract, []),))]
    progress, journal = Progress(), Journal()
    source = ChainSource(settings(anvil), progress, streams)
    async with running(source, journal):
        await wait_until(lambda: source.position == head(anvil), what="the head")
    start = head(anvil)
    for topic in range(1, 6):  # five logs spread over 3 * HISTORY blocks, while it is down
        emit(anvil, contract, topic)
        anvil.mine(HISTORY * 3 // 5)
    counting = CountingTransport()
    source = ChainSource(settings(anvil), progress, streams, transport=counting)
    async with running(source, journal):
        await wait_until(lambda: source.position == head(anvil), what="the backfill")
    logs = journal.logs()
    assert [int(log.topics[0], 16) for log in logs] == [1, 2, 3, 4, 5]
    assert [log.block_number for log in logs] == sorted(log.block_number for log in logs)
    assert journal.blocks() == []
    assert len(journal.published) == len(set(journal.published))
    walked = head(anvil) - start
    # Headers only near the head (plus a checkpoint per range), not one per block walked.
    assert counting.methods.count("eth_getBlockByNumber") <= HISTORY + 10 < walked
