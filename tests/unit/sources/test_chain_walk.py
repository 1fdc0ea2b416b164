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

from hypothesis import given
from hypothesis import strategies as st

from cove import Block, Custom, Event, Log
from cove._sources._chain import log_filter
from cove._sources._chain_json import Header, RawLog
from cove._sources._chain_walk import Stream, Walk

EMITTER = "0x" + "ee" * 20
LOGS = (log_filter(EMITTER, []),)
STREAMS = (Stream(0, True, LOGS), Stream(2, True, LOGS), Stream(5, True))


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
    """One step of the source against this version of the chain, done in one go."""
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


@given(length=st.integers(1, 12), script=ops)
def test_each_depth_sees_a_consistent_view_and_only_reorgs_that_reach_it(
    length: int, script: list[tuple[Any, ...]]
) -> None:
    chain = Chain(length)
    walk = Walk(1, STREAMS)
    reached: set[int] = set()
    walk, events = follow(walk, chain, reached)
    for op in script:
        if op[0] == "grow":
            chain.grow(op[1])
        elif op[0] == "reorg":
            chain.reorg(op[1], op[2])
        else:
            walk = Walk.from_json(1, STREAMS, walk.trimmed().to_json())
            continue
        walk, more = follow(walk, chain, reached)
        events += more
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    assert walk.last == chain.blocks[-1]
    for stream in STREAMS:
        check_depth(stream.confirmations, events, chain, reached)


def check_depth(depth: int, events: list[Event], chain: Chain, reached: set[int]) -> None:
    view: list[Block] = []
    counts: dict[tuple[str, int], int] = {}
    start: int | None = None
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
    if start is not None:
        expected = chain.blocks[start : start + len(view)]
        assert [(b.number, b.hash) for b in view] == [(b.number, b.hash) for b in expected]
        assert start + len(view) - 1 >= head - depth
    if depth in (0, 2):  # the depths with logs
        assert {k for k, n in counts.items() if n} == {
            (b.hash, 0) for b in view if b.number % 2 == 0
        }
    if depth not in reached:
        assert signals == 0
        assert all(n >= 0 for n in counts.values())
        assert not any(
            isinstance(e.payload, Log) and e.payload.removed and e.payload.confirmations == depth
            for e in events
        )
