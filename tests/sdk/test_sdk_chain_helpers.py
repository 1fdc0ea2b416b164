"""cove_sdk.chain helpers under MockHost: what they send and the Python values they give back."""

from __future__ import annotations

from pathlib import Path

import pytest
from cove_sdk.testing import MockHost, RpcRequest

MANIFEST = """
[module]
name = "helpers"
kind = "wasm"
component = "helpers.wasm"

[capabilities]
required = ["store", "chain"]

[capabilities.chain]
chains = [1]

[[subscription]]
kind = "block"
chain_id = 1

[[subscription]]
kind = "custom"
name = "read.revert"
"""

APP = """
from cove_sdk import HostError, WitWorld, chain, on_block, on_event, state

__all__ = ["WitWorld"]
TOKEN = "0x00000000000000000000000000000000000000aa"


@on_block
def read(block, meta):
    seen = {
        "head": chain.block_number(1),
        "balance": chain.get_balance(1, "0xabc", block.number),
        "supply": chain.call(1, TOKEN, bytes.fromhex("18160ddd")).hex(),
        "block": chain.get_block(1, block.number),
    }
    state.set("seen", seen)


@on_event("custom")
def revert(event, meta):
    try:
        chain.call(1, TOKEN, "0xdeadbeef", "safe")
    except HostError as err:
        state.set("revert", [err.kind, err.message])
"""


@pytest.fixture
def host(tmp_path: Path) -> MockHost:
    root = tmp_path / "helpers"
    root.mkdir()
    (root / "cove.toml").write_text(MANIFEST)
    (root / "app.py").write_text(APP)
    return MockHost(root)


def test_helpers_convert_results_and_encode_blocks_and_calldata(host: MockHost) -> None:
    assert host.chain is not None
    host.chain.answer("eth_blockNumber", "0x10")
    host.chain.answer("eth_getBalance", "0xde0b6b3a7640000")
    host.chain.answer(
        "eth_call",
        lambda params: "0x" + "00" * 31 + "2a" if params[0]["data"] == "0x18160ddd" else None,
    )
    host.chain.answer("eth_getBlockByNumber", lambda params: {"number": params[0]})
    host.block(16)
    assert host.state["seen"]["head"] == 16
    assert host.state["seen"]["balance"] == 10**18
    assert host.state["seen"]["supply"] == "00" * 31 + "2a"
    assert host.state["seen"]["block"] == {"number": "0x10"}
    sent = [call for calls in host.chain.requests for call in calls]
    assert sent[1] == RpcRequest(1, "eth_getBalance", ["0xabc", "0x10"])
    assert sent[2] == RpcRequest(
        1,
        "eth_call",
        [{"to": "0x00000000000000000000000000000000000000aa", "data": "0x18160ddd"}, "latest"],
    )
    assert sent[3] == RpcRequest(1, "eth_getBlockByNumber", ["0x10", False])


def test_a_reverting_call_raises_invalid_input_with_the_nodes_message(host: MockHost) -> None:
    assert host.chain is not None
    host.chain.answer("eth_call", error="execution reverted")
    host.custom("read.revert")
    assert host.state["revert"] == ["invalid-input", "eth_call: execution reverted"]
    [[sent]] = host.chain.requests
    assert sent.params[1] == "safe"
    assert sent.params[0]["data"] == "0xdeadbeef"
