"""The pure walk on plain lists: random chains, random reorgs, several depths, restarts.

A small driver does what the source does with a node's answers (find the
common ancestor among the walked headers, rewind to it, extend with the new
blocks) against each version of a chain that hypothesis grows and
reorganises, sometimes saving and reloading the walk between versions.
Each depth's delivered stream must be a consistent view of the final chain,
each log delivered once per adoption, and a reorg that never reached below a
depth must be invisible at that depth.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cove import Block, Custom, Event, Log
from cove._sources._chain import log_filter
from cove._sources._chain_json import Header, RawLog
from cove._sources._chain_walk import Stream, Walk

EMITTER = "0x" + "ee" * 20
LOGS = (log_filter(EMITTER, []),)
STREAMS = (Stream(0, True, LOGS), Stream(2, True, LOGS), Stream(5, True))
LOGS_ONLY = (Stream(0, False, LOGS), Stream(3, False, LOGS))
KEEP = 12
"""Headers kept in the logs-only runs: more than the deepest reorg drawn, so every reorg is
found, yet short enough that long runs walk far below it with checkpoints only."""


class Chain:
    """A chain that grows and reorganises; every block ever made keeps a unique hash."""

    def __init__(self, length: int) -> None:
        self._minted = itertools.count(1)
        self.blocks: list[Header] = []
        self.grow(length)

    def grow(self, count: int) -> None:
        for _ in range(count):
            parent = self.blocks[-1].hash if self.blocks else "0x" + "00" * 32
            number = len(self.blocks)
            self.blocks.append(
                Header(number, f"0x{next(self._minted):032x}{number:032x}", parent, number)
            )

    def reorg(self, depth: int, length: int) -> None:
        del self.blocks[max(1, len(self.blocks) - depth) :]
        self.grow(length)

    def logs(self, headers: list[Header]) -> list[RawLog]:
        """One log in every block of an even number."""
        return [
            {
                "address": EMITTER,
                "topics": [],
                "data": "0x",
                "blockNumber": hex(h.number),
                "blockHash": h.hash,
                "transactionHash": "0x" + h.hash[2:][::-1],
                "logIndex": "0x0",
            }
            for h in headers
            if h.number % 2 == 0
        ]


def follow(walk: Walk, chain: Chain, reached: set[int]) -> tuple[Walk, list[Event]]:
    """One step of the source against this version of the chain, done in one go; with no
    stream wanting blocks, the blocks more than ``keep`` below the tip go in as one
    checkpoint header and their logs, as the source backfills them."""
    blocks = chain.blocks
    last = walk.last
    if last is None:
        first = blocks[max(0, len(blocks) - 1 - walk.deepest) :]
        return walk.extend(first, chain.logs(first))
    events: list[Event] = []
    on_chain = [h for h in walk.history if h.number < len(blocks) and blocks[h.number] == h]
    ancestor = on_chain[-1] if on_chain else blocks[min(len(blocks), walk.history[0].number) - 1]
    if ancestor != last:
        # Only a reorg that dropped a block a depth already had may reach it.
        reached.update(d for d, had in walk.delivered.items() if ancestor.number < had)
        walk, events, _ = walk.rewind(ancestor)
    new = blocks[ancestor.number + 1 :]
    deep_end = len(blocks) - 1 - walk.keep - walk.deepest
    if not walk.wants_blocks and new and new[0].number <= deep_end:
        deep, new = new[: deep_end - new[0].number + 1], new[deep_end - new[0].number + 1 :]
        walk, more = walk.extend([deep[-1]], chain.logs(deep))
        events += more
    if new:
        walk, more = walk.extend(new, chain.logs(new))
        events += more
    return walk, events


ops = st.lists(
    st.one_of(
        st.tuples(st.just("grow"), st.integers(1, 8)),
        st.tuples(st.just("reorg"), st.integers(1, 9), st.integers(0, 10)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=20,
)


@settings(deadline=None)  # a loaded machine is no failure
@given(length=st.integers(1, 12), script=ops)
def test_each_depth_sees_a_consistent_view_and_only_reorgs_that_reach_it(
    length: int, script: list[tuple[Any, ...]]
) -> None:
    run(Walk(1, STREAMS), length, script)


# Reorgs that never shorten the chain and stay within KEEP of the highest block walked
# (successive shortening reorgs can reach below the kept headers, which no walk can see).
growing_ops = st.lists(
    st.one_of(
        st.tuples(st.just("grow"), st.integers(1, 30)),
        st.integers(1, 4).flatmap(
            lambda d: st.tuples(st.just("reorg"), st.just(d), st.integers(d, d + 4))
        ),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=20,
)


@settings(deadline=None)
@given(length=st.integers(1, 40), script=growing_ops)
def test_logs_only_depths_walked_by_checkpoints_get_each_log_once(
    length: int, script: list[tuple[Any, ...]]
) -> None:
    run(Walk(1, LOGS_ONLY, keep=KEEP), length, script)


def run(walk: Walk, length: int, script: list[tuple[Any, ...]]) -> None:
    chain = Chain(length)
    streams = walk.streams
    reached: set[int] = set()
    walk, events = follow(walk, chain, reached)
    for op in script:
        if op[0] == "grow":
            chain.grow(op[1])
        elif op[0] == "reorg":
            chain.reorg(op[1], op[2])
        else:
            walk = Walk.from_json(1, streams, walk.trimmed().to_json(), keep=walk.keep)
            continue
        walk, more = follow(walk, chain, reached)
        events += more
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    assert walk.last == chain.blocks[-1]
    for stream in streams:
        check_depth(stream, events, chain, reached, length)


def check_depth(
    stream: Stream, events: list[Event], chain: Chain, reached: set[int], length: int
) -> None:
    """Blocks: a prefix of the final chain from where the depth started. Logs (with or
    without blocks): each log of those blocks delivered once, removed only once delivered."""
    depth = stream.confirmations
    view: list[Block] = []
    counts: dict[tuple[str, int], int] = {}
    start: int | None = None
    log_start = max(0, length - 1 - depth)  # where a depth starts: at now
    signals = 0
    for event in events:
        payload = event.payload
        if isinstance(payload, Custom):
            signal = json.loads(payload.payload)
            if depth in signal["confirmations"]:
                signals += 1
                view = [b for b in view if b.number <= signal["ancestor"]]
                start = (
                    signal["ancestor"] + 1 if start is None else min(start, signal["ancestor"] + 1)
                )
                log_start = min(log_start, signal["ancestor"] + 1)
        elif isinstance(payload, Block) and payload.confirmations == depth:
            start = payload.number if start is None else start
            if view:
                assert (payload.number, payload.parent_hash) == (view[-1].number + 1, view[-1].hash)
            view.append(payload)
        elif isinstance(payload, Log) and payload.confirmations == depth:
            key = (payload.block_hash, payload.log_index)
            counts[key] = counts.get(key, 0) + (-1 if payload.removed else 1)
            assert counts[key] in (0, 1)
    # A prefix of the final chain from where the depth started, up to at least head - depth
    # (more when the head went down without dropping what the depth already had).
    head = chain.blocks[-1].number
    if start is not None and stream.blocks:
        expected = chain.blocks[start : start + len(view)]
        assert [(b.number, b.hash) for b in view] == [(b.number, b.hash) for b in expected]
        assert start + len(view) - 1 >= head - depth
    live = {k for k, n in counts.items() if n}
    if stream.blocks and stream.filters:
        assert live == {(b.hash, 0) for b in view if b.number % 2 == 0}
    elif stream.filters:
        # Every log of the final chain from the start to head - depth, and none off it.
        final = {(b.hash, 0) for b in chain.blocks[log_start:] if b.number % 2 == 0}
        due = {
            (b.hash, 0)
            for b in chain.blocks[log_start : max(0, head - depth + 1)]
            if b.number % 2 == 0
        }
        assert due <= live <= final
    if depth not in reached:
        assert signals == 0
        assert all(n >= 0 for n in counts.values())
        assert not any(
            isinstance(e.payload, Log) and e.payload.removed and e.payload.confirmations == depth
            for e in events
        )
