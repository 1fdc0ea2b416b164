"""The chain source's JSON-RPC boundary: any answer is typed data or one ChainRpcError.

hypothesis throws arbitrary JSON at the parsers and at the reader (through
httpx's MockTransport), and well-formed blocks and logs must come through
unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cove._sources._chain_json import Header, header, header_or_none, logs, quantity
from cove._sources._chain_rpc import ChainReader, Endpoint
from cove.errors import ChainRpcError, SourceError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
hexes = st.integers(0, 2**64).map(hex)
hashes = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
raw_logs = st.fixed_dictionaries(
    {
        "address": addresses,
        "topics": st.lists(hashes, max_size=4),
        "data": st.binary(max_size=64).map(lambda b: "0x" + b.hex()),
        "blockNumber": hexes,
        "blockHash": hashes,
        "transactionHash": hashes,
        "logIndex": hexes,
    }
)
raw_blocks = st.fixed_dictionaries(
    {"number": hexes, "hash": hashes, "parentHash": hashes, "timestamp": hexes}
)


@given(json_values)
def test_any_json_is_typed_or_one_chain_rpc_error(value: Any) -> None:
    for parse in (quantity, header, header_or_none, logs):
        try:
            parse("eth_method", value)
        except ChainRpcError as exc:
            assert str(exc).startswith("eth_method: unusable answer: ")


@given(st.lists(raw_logs, max_size=5))
def test_well_formed_logs_come_through_unchanged(entries: list[dict[str, Any]]) -> None:
    extra = [{**e, "removed": False, "transactionIndex": "0x0"} for e in entries]
    assert logs("eth_getLogs", extra) == entries


@given(raw_blocks)
def test_a_block_becomes_its_header(block: dict[str, str]) -> None:
    expected = Header(
        int(block["number"], 16), block["hash"], block["parentHash"], int(block["timestamp"], 16)
    )
    assert header("eth_getBlockByNumber", {**block, "miner": "0x00"}) == expected


GOOD_LOG = {
    "address": "0x" + "00" * 20,
    "topics": [],
    "data": "0x",
    "blockNumber": "0x1",
    "blockHash": "0x" + "11" * 32,
    "transactionHash": "0x" + "22" * 32,
    "logIndex": "0x0",
}


def test_a_malformed_field_is_named() -> None:
    with pytest.raises(ChainRpcError, match=r"eth_getLogs: unusable answer: 0\.logIndex"):
        logs("eth_getLogs", [{**GOOD_LOG, "logIndex": 1}])
    assert issubclass(ChainRpcError, SourceError)


async def _read(answer: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        reader = ChainReader(client, [Endpoint("http://node.test")])
        for read in (reader.select(None), reader.blocks([1, 2])):
            try:
                await read
            except ChainRpcError:
                pass


@settings(deadline=None)  # an event loop per example: a loaded machine is no failure
@given(json_values)
def test_any_answer_from_the_node_is_a_result_or_a_chain_rpc_error(answer: Any) -> None:
    asyncio.run(_read(answer))
