"""examples/balance_monitor's logic under MockHost (no wasm): the batch, the summary, outages.

The engine test (tests/chain/test_examples_balance_monitor.py) runs the
built component on anvil; these pin down what each answer becomes.
"""

from __future__ import annotations

import json

import pytest
from cove_sdk.testing import MockHost

from tests.helpers.modules import EXAMPLES
from tests.helpers.token import DEV, FIRST_CONTRACT

ENDPOINT = "http://127.0.0.1:8790/balances"
WEI = {DEV[0]: 10**22, DEV[1]: 5}
TOKENS = {DEV[0]: 999 * 10**18, DEV[1]: 10**18}


def token_balance(params: list[dict[str, str]]) -> str:
    holder = "0x" + params[0]["data"][-40:]
    return hex(TOKENS[holder])


@pytest.fixture
def host() -> MockHost:
    host = MockHost(EXAMPLES / "balance_monitor")
    assert host.chain is not None
    host.chain.answer("eth_blockNumber", "0x2a")
    host.chain.answer("eth_getBalance", lambda params: hex(WEI[params[0].lower()]))
    host.chain.answer("eth_call", token_balance)
    host.respond(ENDPOINT, method="POST", status=204)
    return host


def test_a_tick_reads_everything_in_one_batch_and_posts_the_summary(host: MockHost) -> None:
    due = host.now_ms  # the tick's scheduled time
    host.tick()
    assert host.chain is not None
    (batch,) = host.chain.requests
    assert [r.method for r in batch] == ["eth_blockNumber"] + ["eth_getBalance", "eth_call"] * 2
    assert all(r.params[0]["to"].lower() == FIRST_CONTRACT for r in batch if r.method == "eth_call")
    summary = {
        "chain_id": 31337,
        "block": 42,
        "at_ms": due,
        "balances": {a: {"wei": str(WEI[a]), "token": str(TOKENS[a])} for a in DEV[:2]},
    }
    (post,) = host.requests
    assert (post.method, post.url, json.loads(post.body)) == ("POST", ENDPOINT, summary)
    assert host.state["last"] == summary
    assert host.state["last_post"] == {"at_ms": due, "status": 204}


def test_no_contract_or_a_failed_call_shows_as_null_not_a_failure(host: MockHost) -> None:
    assert host.chain is not None
    host.chain.answer("eth_call", "0x")  # nothing deployed at the token address
    host.chain.answer("eth_getBalance", error="header not found")
    host.tick()
    assert host.state["last"]["balances"][DEV[0]] == {"wei": None, "token": None}


def test_a_node_outage_is_recorded_and_nothing_is_posted() -> None:
    host = MockHost(EXAMPLES / "balance_monitor")  # no answers: every endpoint "down"
    host.tick()
    host.tick()
    assert host.requests == []
    assert host.state["chain_errors"] == 2
    assert host.state["checks"] == 2
    assert "unavailable" in host.state["last_error"]["chain"]
    assert "last" not in host.state


def test_an_endpoint_outside_the_allowlist_is_recorded_and_the_summary_kept() -> None:
    host = MockHost(EXAMPLES / "balance_monitor", config={"endpoint": "http://elsewhere/x"})
    assert host.chain is not None
    host.chain.answer("eth_blockNumber", "0x1")
    host.chain.answer("eth_getBalance", "0x0")
    host.chain.answer("eth_call", "0x0")
    host.tick()
    assert "denied" in host.state["last_error"]["post"]
    assert host.state["last"]["block"] == 1
    assert "last_post" not in host.state
