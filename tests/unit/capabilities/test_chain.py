"""cove._capabilities._chain.ChainBackend: failover, retries, rate limit and method policy.

The chain path itself is tested against anvil in tests/chain; these use
``httpx.MockTransport`` for failures a live node will not produce on demand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cove._capabilities._chain import ChainBackend, RpcCall
from cove._config_chain import ChainSettings
from cove.errors import HostCallError

PRIMARY = "http://primary.test"
FALLBACK = "http://fallback.test"


def settings(**changes: Any) -> ChainSettings:
    return ChainSettings.model_validate({"chain_id": 1, "http": PRIMARY, **changes})


class Node:
    """A scripted JSON-RPC endpoint set: ``down`` hosts answer 503."""

    def __init__(self, down: set[str] | None = None) -> None:
        self.down = down or set()
        self.hits: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.hits.append(request.url.host)
        if f"http://{request.url.host}" in self.down:
            return httpx.Response(503)
        body = json.loads(request.content)
        items = body if isinstance(body, list) else [body]
        answers = [self.answer(item) for item in items]
        return httpx.Response(200, json=answers if isinstance(body, list) else answers[0])

    @staticmethod
    def answer(item: dict[str, Any]) -> dict[str, Any]:
        if item["method"] == "eth_fail":
            return {"jsonrpc": "2.0", "id": item["id"], "error": {"code": -32000, "message": "no"}}
        return {"jsonrpc": "2.0", "id": item["id"], "result": [item["method"], item["params"]]}


def backend(
    node: Node, chain: ChainSettings, sleeps: list[float] | None = None, clock: float = 0.0
) -> ChainBackend:
    record: Callable[[float], None] = sleeps.append if sleeps is not None else lambda _: None
    return ChainBackend(
        [chain],
        httpx.MockTransport(node),
        sleep=record,
        clock=lambda: clock,
        jitter=lambda: 0.5,
    )


def test_result_is_the_raw_json_of_the_rpc_result() -> None:
    chain = backend(Node(), settings())
    assert chain.request(1, RpcCall("eth_getBalance", '["0xab","latest"]')) == (
        '["eth_getBalance",["0xab","latest"]]'
    )


def test_a_failing_primary_falls_back_and_counts_a_fallback_hit() -> None:
    node = Node(down={PRIMARY})
    chain = backend(node, settings(fallbacks=[FALLBACK]))
    assert chain.request(1, RpcCall("eth_blockNumber")) == '["eth_blockNumber",[]]'
    assert node.hits == ["primary.test", "fallback.test"]
    (health,) = chain.health()
    assert health["fallback_hits"] == 1
    assert [e["errors"] for e in health["endpoints"]] == [1, 0]
    assert health["endpoints"][0]["last_error"] == "#0 primary.test: HTTP 503"


def test_rounds_back_off_exponentially_then_fail_as_unavailable() -> None:
    node = Node(down={PRIMARY})
    sleeps: list[float] = []
    chain = backend(
        node, settings(retry={"attempts": 4, "initial": "100ms", "max": "300ms"}), sleeps
    )
    with pytest.raises(HostCallError) as info:
        chain.request(1, RpcCall("eth_blockNumber"))
    assert info.value.kind == "unavailable"
    assert "every endpoint failed after 4 round(s)" in info.value.message
    assert sleeps == pytest.approx([0.1, 0.2, 0.3])  # doubling, capped; jitter 0.5 is neutral
    assert chain.health()[0]["failures"] == 1


def test_a_backoff_past_the_deadline_is_a_timeout_not_a_sleep() -> None:
    sleeps: list[float] = []
    chain = backend(Node(down={PRIMARY}), settings(retry={"initial": "1s"}), sleeps)
    with pytest.raises(HostCallError) as info:
        chain.request(1, RpcCall("eth_blockNumber"), time_left=0.5)
    assert info.value.kind == "timeout"
    assert sleeps == []


def test_rpc_errors_are_not_retried_and_keep_their_message() -> None:
    node = Node()
    chain = backend(node, settings(fallbacks=[FALLBACK]))
    with pytest.raises(HostCallError) as info:
        chain.request(1, RpcCall("eth_fail"))
    assert info.value.kind == "invalid-input"
    assert info.value.message == "chain 1: eth_fail: no (code -32000)"
    assert node.hits == ["primary.test"]


def test_batch_is_one_post_and_errors_stay_per_call() -> None:
    node = Node()
    chain = backend(node, settings())
    out = chain.request_batch(
        1, [RpcCall("eth_chainId"), RpcCall("eth_fail"), RpcCall("eth_getCode", '["0x1"]')]
    )
    assert node.hits == ["primary.test"]
    assert out[0] == '["eth_chainId",[]]'
    assert isinstance(out[1], HostCallError) and out[1].kind == "invalid-input"
    assert out[2] == '["eth_getCode",["0x1"]]'


@pytest.mark.parametrize("method", ["eth_sendTransaction", "anvil_mine", "debug_traceCall"])
def test_default_policy_denies_signing_and_node_control(method: str) -> None:
    node = Node()
    chain = backend(node, settings())
    with pytest.raises(HostCallError) as info:
        chain.request(1, RpcCall(method))
    assert info.value.kind == "denied"
    assert "deny_methods" in info.value.message and "chain_methods" in info.value.message
    assert node.hits == []


def test_a_module_grant_reallows_a_denied_method_but_not_an_unlisted_one() -> None:
    chain = backend(Node(), settings(allow_methods=["eth_*", "anvil_mine"]))
    assert chain.request(1, RpcCall("anvil_mine"), granted=("anvil_*",))
    with pytest.raises(HostCallError, match="allow_methods"):
        chain.request(1, RpcCall("net_version"), granted=("*",))


def test_a_denied_call_in_a_batch_refuses_the_whole_batch_before_sending() -> None:
    node = Node()
    chain = backend(node, settings())
    with pytest.raises(HostCallError, match="evm_mine"):
        chain.request_batch(1, [RpcCall("eth_chainId"), RpcCall("evm_mine")])
    assert node.hits == []


def test_rate_limit_waits_for_tokens_counting_each_call_of_a_batch() -> None:
    sleeps: list[float] = []
    chain = backend(Node(), settings(rate_limit=4), sleeps)
    chain.request_batch(1, [RpcCall("eth_chainId")] * 4)  # the whole second's budget
    chain.request(1, RpcCall("eth_chainId"))
    assert sleeps == pytest.approx([0.25])


def test_bad_params_and_unknown_chains_are_clear_errors() -> None:
    chain = backend(Node(), settings())
    with pytest.raises(HostCallError, match="params of eth_call are not JSON") as info:
        chain.request(1, RpcCall("eth_call", "[1,"))
    assert info.value.kind == "invalid-input"
    with pytest.raises(HostCallError, match=r"chain 5 is not configured") as info:
        chain.request(5, RpcCall("eth_chainId"))
    assert info.value.kind == "not-found"


def test_config_refuses_a_fallback_that_repeats_the_primary() -> None:
    with pytest.raises(ValueError, match="repeat the primary"):
        settings(fallbacks=[PRIMARY])
