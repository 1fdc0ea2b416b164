"""A head that flips between two branches and back: the block adopted again is delivered again.

anvil cannot bring a replaced block back (a re-mined block gets a new hash),
so a node of a few lines answers here, through the source's own HTTP client.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx

from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from tests.helpers.chain_source import Journal, Progress, running
from tests.helpers.engine import wait_until

EMITTER = "0x" + "ee" * 20


def _hash(n: int, branch: str = "") -> str:
    return "0x" + (branch * 64 if branch else f"{n:064x}")


class FlippingNode:
    """Blocks 0-3, then a block 4 of branch ``a`` (one log) or ``b`` (none), or none yet."""

    def __init__(self) -> None:
        self.branch = ""

    def _blocks(self) -> list[dict[str, Any]]:
        numbers = range(5 if self.branch else 4)
        return [
            {
                "number": hex(n),
                "hash": _hash(n, self.branch if n == 4 else ""),
                "parentHash": _hash(n - 1) if n else _hash(0, "f"),
                "timestamp": hex(1_000 + n),
            }
            for n in numbers
        ]

    def _logs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        if self.branch != "a":
            return []
        log = {
            "address": EMITTER,
            "topics": [],
            "data": "0x",
            "blockNumber": "0x4",
            "blockHash": _hash(4, "a"),
            "transactionHash": _hash(0, "c"),
            "logIndex": "0x0",
            "removed": False,
        }
        if query.get("blockHash", log["blockHash"]) != log["blockHash"]:
            return []
        if int(query.get("toBlock", "0x4"), 16) < 4:
            return []
        return [log]

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params = call["method"], call["params"]
        blocks = self._blocks()
        result: Any
        if method == "eth_blockNumber":
            result = hex(len(blocks) - 1)
        elif method == "eth_getBlockByNumber":
            number = int(params[0], 16)
            result = blocks[number] if number < len(blocks) else None
        else:
            assert method == "eth_getLogs", method
            result = self._logs(params[0])
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        answer = [self._answer(c) for c in body] if isinstance(body, list) else self._answer(body)
        return httpx.Response(200, json=answer)


def _block_4_published(journal: Journal, times: int) -> bool:
    """Has the source published a block 4 ``times`` times (repeats included)?"""
    return sum(event_id.startswith("block:1:4:") for event_id in journal.published) == times


async def test_a_block_dropped_then_adopted_again_is_delivered_again() -> None:
    node = FlippingNode()
    chain = ChainSettings(chain_id=1, http="http://node.invalid", poll_interval="10ms")
    stream = Stream(0, True, (log_filter(EMITTER, []),))
    source = ChainSource(chain, Progress(), [stream], transport=httpx.MockTransport(node.handle))
    journal = Journal()
    async with running(source, journal):
        await wait_until(lambda: source.position == 3, what="block 3")
        for turn, branch in enumerate("aba", start=1):
            node.branch = branch
            done = functools.partial(_block_4_published, journal, turn)
            await wait_until(done, what=f"block 4{branch}")
    assert [b.hash for b in journal.blocks()] == [
        _hash(3),
        _hash(4, "a"),
        _hash(4, "b"),
        _hash(4, "a"),
    ]
    assert [log.removed for log in journal.logs()] == [False, True, False]
    reorgs = [e.payload for e in journal.events if e.id.startswith("reorg:")]
    assert len(reorgs) == 2
