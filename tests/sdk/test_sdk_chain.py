"""cove_sdk.chain under MockHost: decoded params and results, per-call errors, the chain grant."""

from __future__ import annotations

from pathlib import Path

import pytest
from cove_sdk.testing import MockHost, RpcRequest

MANIFEST = """
[module]
name = "reader"
kind = "wasm"
component = "reader.wasm"

[capabilities]
required = ["store", "chain"]

[capabilities.chain]
chains = [31337]

[[subscription]]
kind = "custom"
name = "read.*"
"""

APP = """
import json
from cove_sdk import HostError, WitWorld, chain, on_event, state

__all__ = ["WitWorld"]


def shown(value):
    return {"error": [value.kind, str(value)]} if isinstance(value, HostError) else value


@on_event("custom")
def read(event, meta):
    request = json.loads(event.payload)
    try:
        if event.name == "read.one":
            state.set("seen", chain.request(request["chain"], request["method"], request["params"]))
        else:
            calls = [(c["method"], c["params"]) for c in request["calls"]]
            state.set("seen", [shown(r) for r in chain.request_batch(request["chain"], calls)])
    except HostError as err:
        state.set("seen", {"raised": err.kind})
"""


@pytest.fixture
def host(tmp_path: Path) -> MockHost:
    root = tmp_path / "reader"
    root.mkdir()
    (root / "cove.toml").write_text(MANIFEST)
    (root / "app.py").write_text(APP)
    return MockHost(root)


def test_a_request_sends_json_params_and_decodes_the_result(host: MockHost) -> None:
    assert host.chain is not None
    host.chain.answer("eth_getBlockByNumber", lambda params: {"number": params[0]})
    host.custom("read.one", {"chain": 31337, "method": "eth_getBlockByNumber", "params": ["0x5"]})
    assert host.state["seen"] == {"number": "0x5"}
    assert host.chain.requests == [[RpcRequest(31337, "eth_getBlockByNumber", ["0x5"])]]


def test_a_batch_is_one_host_call_and_a_revert_fails_only_its_own_call(host: MockHost) -> None:
    assert host.chain is not None
    host.chain.answer("eth_chainId", "0x7a69")
    host.chain.answer("eth_call", error="execution reverted")
    calls = [{"method": "eth_chainId", "params": []}, {"method": "eth_call", "params": [{}]}]
    host.custom("read.batch", {"chain": 31337, "calls": calls})
    assert host.state["seen"] == [
        "0x7a69",
        {"error": ["invalid-input", "invalid-input: eth_call: execution reverted"]},
    ]
    assert [len(call) for call in host.chain.requests] == [2]


@pytest.mark.parametrize(
    ("chain_id", "kind"),
    [(1, "denied"), (31337, "unavailable")],  # not granted; no answer for the method
)
def test_a_failed_batch_raises_for_the_whole_batch(
    host: MockHost, chain_id: int, kind: str
) -> None:
    host.custom(
        "read.batch", {"chain": chain_id, "calls": [{"method": "eth_gasPrice", "params": []}]}
    )
    assert host.state["seen"] == {"raised": kind}
