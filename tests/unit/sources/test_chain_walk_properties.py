"""Random chains, random reorgs, random lagging or dead endpoints: what the walk delivers.

Two in-memory nodes (a primary and a replica) answer the source's JSON-RPC
from plain lists of blocks, through its own HTTP client (httpx's
MockTransport). hypothesis picks what happens between steps of the walk:
blocks mined, reorgs and reverts on the primary, the replica synced to a
snapshot of the primary from some earlier moment (so it may lag, or hold a
branch the primary has since dropped), the primary's head dipping a few
blocks (a load balancer's backend that is behind), either node down; at the end both
are up and agree, and the chain has grown past the walk. Whatever it
picks, the delivered stream must be a prefix-consistent view of some chain
a node really had, each log delivered once per time its block is adopted,
and, when the primary never reorganised, no reorg and no removed log at all:
a lagging replica is never a reorg.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cove import Block, Custom, Log
from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from cove._sources._chain_json import Header
from cove._sources._chain_rpc import ChainReader
from tests.helpers.chain_source import Journal, Progress

EMITTER = "0x" + "ee" * 20
PRIMARY, REPLICA = "http://primary.test", "http://replica.test"


@dataclass
class Node:
    blocks: list[Header]
    up: bool = True
    dip: int = 0
    """Blocks at the top it does not show (a lagging backend behind the same URL)."""
    unknown_hash_empty: bool = False
    """Answers ``[]`` for logs of a block hash it does not know (some providers do)."""

    @property
    def visible(self) -> list[Header]:
        return self.blocks[: max(1, len(self.blocks) - self.dip)]


@dataclass
class Network:
    """The primary's chain (every version it ever had) and a replica's copy of one of them."""

    primary: Node
    replica: Node
    versions: list[list[Header]] = field(default_factory=list)
    minted: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    reorganised: bool = False

    @classmethod
    def start(cls, length: int) -> Network:
        net = cls(Node([]), Node([]))
        net.primary.blocks = [net._block(n, "0x" + "00" * 32) for n in range(length)]
        net.replica.blocks = list(net.primary.blocks)
        net.versions.append(list(net.primary.blocks))
        return net

    def _block(self, number: int, parent: str) -> Header:
        return Header(number, f"0x{next(self.minted):032x}{number:032x}", parent, 1_000 + number)

    def mine(self, count: int) -> None:
        for _ in range(count):
            tip = self.primary.blocks[-1]
            self.primary.blocks.append(self._block(tip.number + 1, tip.hash))
        self.versions.append(list(self.primary.blocks))

    def reorg(self, depth: int, length: int) -> None:
        """Replace the top ``depth`` blocks with ``length`` new ones (fewer: a revert)."""
        depth = min(depth, len(self.primary.blocks) - 1)
        del self.primary.blocks[len(self.primary.blocks) - depth :]
        self.reorganised = True
        self.mine(length)

    def sync_replica(self, version: int) -> None:
        self.replica.blocks = list(self.versions[version % len(self.versions)])

    # the JSON-RPC the source asks -------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        node = self.primary if str(request.url).startswith(PRIMARY) else self.replica
        if not node.up:
            raise httpx.ConnectError("down", request=request)
        body = json.loads(request.content)
        if isinstance(body, list):
            return httpx.Response(200, json=[_answer(node, call) for call in body])
        return httpx.Response(200, json=_answer(node, body))


def _log(block: Header) -> dict[str, Any]:
    return {
        "address": EMITTER,
        "topics": ["0x" + f"{block.number:064x}"],
        "data": "0x",
        "blockNumber": hex(block.number),
        "blockHash": block.hash,
        "transactionHash": "0x" + block.hash[2:][::-1],
        "logIndex": "0x0",
        "removed": False,
    }


def _answer(node: Node, call: dict[str, Any]) -> dict[str, Any]:
    method, params = call["method"], call["params"]
    blocks = node.visible
    result: Any
    if method == "eth_blockNumber":
        result = hex(blocks[-1].number)
    elif method == "eth_getBlockByNumber":
        number = int(params[0], 16)
        found = blocks[number] if number < len(blocks) else None
        result = None if found is None else _raw(found)
    else:
        assert method == "eth_getLogs", method
        query = params[0]
        if "blockHash" in query:
            mine = [b for b in blocks if b.hash == query["blockHash"]]
            if not mine and not node.unknown_hash_empty:
                return {"jsonrpc": "2.0", "id": call["id"], "error": {"code": -32000}}
            result = [_log(b) for b in mine]
        else:
            low, high = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            result = [_log(b) for b in blocks[low : high + 1]]
    return {"jsonrpc": "2.0", "id": call["id"], "result": result}


def _raw(block: Header) -> dict[str, Any]:
    return {
        "number": hex(block.number),
        "hash": block.hash,
        "parentHash": block.parent_hash,
        "timestamp": hex(block.timestamp),
    }


ops = st.lists(
    st.one_of(
        st.tuples(st.just("mine"), st.integers(1, 4)),
        st.tuples(st.just("reorg"), st.integers(1, 5), st.integers(0, 6)),
        st.tuples(st.just("sync"), st.integers(0, 30)),
        st.tuples(st.just("primary"), st.booleans()),
        st.tuples(st.just("replica"), st.booleans()),
        st.tuples(st.just("dip"), st.integers(0, 3)),
        st.tuples(st.just("step"), st.integers(1, 3)),
    ),
    max_size=25,
)


async def _run(net: Network, script: list[tuple[Any, ...]], journal: Journal) -> ChainSource:
    chain = ChainSettings(chain_id=1, http=PRIMARY, fallbacks=[REPLICA])
    stream = Stream(0, True, (log_filter(EMITTER, []),))
    source = ChainSource(chain, Progress(), [stream])
    async with httpx.AsyncClient(transport=httpx.MockTransport(net.handle)) as client:
        source._reader = ChainReader(client, source.endpoints)

        async def step() -> None:
            try:
                await source.step(journal.publish)
            except httpx.HTTPError:
                pass  # both down: the run loop retries later

        await step()
        for op in script:
            if op[0] == "mine":
                net.mine(op[1])
            elif op[0] == "reorg":
                net.reorg(op[1], op[2])
            elif op[0] == "sync":
                net.sync_replica(op[1])
            elif op[0] == "primary":
                net.primary.up = op[1]
            elif op[0] == "replica":
                net.replica.up = op[1]
            elif op[0] == "dip":
                net.primary.dip = op[1]
            else:
                for _ in range(op[1]):
                    await step()
        # The end: both up, the replica caught up, and the chain grown past the walk (a
        # node back from an outage with a shorter chain is waited for until it grows).
        net.primary.up = net.replica.up = True
        net.primary.dip = 0
        net.mine(max(0, (source.position or 0) - net.primary.blocks[-1].number) + 1)
        net.sync_replica(-1)
        for _ in range(200):
            if await source.step(journal.publish):
                break
    return source


def _no_rewind(journal: Journal) -> bool:
    return not any(
        isinstance(e.payload, Custom) or (isinstance(e.payload, Log) and e.payload.removed)
        for e in journal.events
    )


@given(dip=st.integers(1, 3), polls=st.integers(1, 8))
@settings(max_examples=30, deadline=None)
def test_a_primary_whose_head_dips_below_the_walk_and_comes_back_never_removes_a_log(
    dip: int, polls: int
) -> None:
    # The replica is down: the primary alone serves, and for a while a backend behind
    # its load balancer answers, a few blocks short (no hash differs: it is behind).
    net, journal = Network.start(4), Journal()
    script = [("replica", False), ("mine", 3), ("step", 2), ("dip", dip), ("step", polls)]
    source = asyncio.run(_run(net, [*script, ("dip", 0), ("mine", 1), ("step", 2)], journal))
    assert _no_rewind(journal)
    assert [b.number for b in journal.blocks()] == list(range(3, source.position + 1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(length=st.integers(2, 6), script=ops)
def test_the_delivered_stream_is_a_consistent_view_of_a_chain_a_node_had(
    length: int, script: list[tuple[Any, ...]]
) -> None:
    net, journal = Network.start(length), Journal()
    source = asyncio.run(_run(net, script, journal))
    assert len(journal.published) == len(set(journal.published))
    known = {b.hash: b for version in net.versions for b in version}
    view: list[Block] = []
    start = next(e.payload.number for e in journal.events if isinstance(e.payload, Block))
    logs: dict[tuple[str, int], int] = {}
    for event in journal.events:
        payload = event.payload
        if isinstance(payload, Custom):
            signal = json.loads(payload.payload)
            # Every delivered block above the ancestor is named (the walk may name
            # more: headers it kept below where the stream started).
            dropped = {b.hash for b in view if b.number > signal["ancestor"]}
            assert dropped <= set(signal["dropped"])
            view = [b for b in view if b.number <= signal["ancestor"]]
            start = min(start, signal["ancestor"] + 1)
        elif isinstance(payload, Block):
            assert payload.hash in known  # a block some node really had
            if view:
                assert (payload.number, payload.parent_hash) == (view[-1].number + 1, view[-1].hash)
            view.append(payload)
        elif isinstance(payload, Log):
            key = (payload.block_hash, payload.log_index)
            logs[key] = logs.get(key, 0) + (-1 if payload.removed else 1)
            assert logs[key] in (0, 1)  # delivered once per adoption, removed only after
            assert payload.removed or view[-1].hash == payload.block_hash  # after its block
    final = net.primary.blocks
    # Where the stream starts: its first block, or below it after a reorg went deeper.
    assert [(b.number, b.hash) for b in view] == [(b.number, b.hash) for b in final[start:]]
    assert {k for k, n in logs.items() if n} == {(b.hash, 0) for b in view}
    assert source.position == final[-1].number
    if not net.reorganised:
        assert _no_rewind(journal)
