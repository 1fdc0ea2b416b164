"""The chain backend and the ``chain`` gate against a real anvil."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._chain import ChainBackend, RpcCall
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import Grants, Limits
from cove._config_chain import ChainSettings
from cove.errors import HostCallError
from tests.helpers.anvil import Anvil
from tests.helpers.fakes import FakeStateReader

CHAIN = 31337
# anvil's first dev account (from its default mnemonic)
DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


class CountingTransport(httpx.BaseTransport):
    """The real HTTP transport, counting POSTs: a batch must be one on the wire."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def dead_url() -> str:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


Backends = Callable[..., ChainBackend]


@pytest.fixture
def make_backend() -> Iterator[Backends]:
    """``ChainBackend(...)`` that is closed after the test."""
    made: list[ChainBackend] = []

    def make(*args: Any, **kwargs: Any) -> ChainBackend:
        made.append(ChainBackend(*args, **kwargs))
        return made[-1]

    yield make
    for backend in made:
        backend.close()


def chain_settings(anvil: Anvil, **changes: object) -> ChainSettings:
    return ChainSettings.model_validate({"chain_id": CHAIN, "http": anvil.http_url, **changes})


def test_request_returns_the_raw_json_result(anvil: Anvil, make_backend: Backends) -> None:
    backend = make_backend([chain_settings(anvil)])
    assert backend.request(CHAIN, RpcCall("eth_chainId")) == '"0x7a69"'
    balance = json.loads(backend.request(CHAIN, RpcCall("eth_getBalance", f'["{DEV}","latest"]')))
    assert int(balance, 16) > 0


def test_batch_is_one_post_with_per_call_results(anvil: Anvil, make_backend: Backends) -> None:
    transport = CountingTransport()
    backend = make_backend([chain_settings(anvil)], transport)
    head = anvil.mine(2)
    results = backend.request_batch(
        CHAIN,
        [
            RpcCall("eth_blockNumber"),
            RpcCall("eth_getBalance", f'["{DEV}","latest"]'),
            RpcCall("eth_getBlockByNumber", '["0xffffffff", false]'),
            RpcCall("eth_call", '[{"to":"0x0"}, "nonsense"]'),
        ],
    )
    assert transport.posts == 1
    assert results[0] == json.dumps(hex(head))
    assert isinstance(results[1], str) and int(json.loads(results[1]), 16) > 0
    assert results[2] == "null"  # a block that does not exist yet
    assert isinstance(results[3], HostCallError) and results[3].kind == "invalid-input"


def test_a_dead_primary_falls_back_to_anvil(anvil: Anvil, make_backend: Backends) -> None:
    primary = dead_url()
    backend = make_backend(
        [ChainSettings(chain_id=CHAIN, http=primary, fallbacks=[anvil.http_url])]
    )
    assert backend.request(CHAIN, RpcCall("eth_chainId")) == '"0x7a69"'
    (health,) = backend.health()
    assert health["fallback_hits"] == 1
    assert health["endpoints"][0]["errors"] == 1
    assert "ConnectError" in health["endpoints"][0]["last_error"]
    assert health["endpoints"][1]["requests"] == 1


def test_every_endpoint_down_is_unavailable_naming_the_last_failure(make_backend: Backends) -> None:
    backend = make_backend(
        [
            ChainSettings.model_validate(
                {"chain_id": CHAIN, "http": dead_url(), "retry": {"attempts": 2, "initial": "1ms"}}
            )
        ]
    )
    with pytest.raises(HostCallError) as info:
        backend.request(CHAIN, RpcCall("eth_chainId"))
    assert info.value.kind == "unavailable"
    assert "every endpoint failed after 2 round(s)" in info.value.message


def gate(
    backend: ChainBackend, chains: tuple[int, ...] = (CHAIN,), methods: tuple[str, ...] = ()
) -> HostCalls:
    grants = Grants(
        module="watcher",
        declared=frozenset({"chain", "logging", "config"}),
        granted=frozenset({"chain", "logging", "config"}),
        http_allow=(),
        transports=None,
        limits=Limits(fuel=1, memory_bytes=1, timeout_ms=1, state_bytes=1, host_calls=1_000),
        chains=chains,
        chain_methods=methods,
    )
    return HostCalls(
        grants=grants,
        effects=EventEffects("watcher", FakeStateReader({}), quota=1),
        config={},
        http=None,
        log_sink=lambda *line: None,
        chain=backend,
    )


def test_gate_checks_the_chain_grant_and_records_the_call(
    anvil: Anvil, make_backend: Backends
) -> None:
    backend = make_backend([chain_settings(anvil)])
    calls = gate(backend)
    assert calls.chain_request(CHAIN, "eth_chainId", "[]") == '"0x7a69"'
    assert [(r.interface, r.function, r.summary) for r in calls.records] == [
        ("chain", "request", "31337 eth_chainId")
    ]
    with pytest.raises(HostCallError) as info:
        gate(backend, chains=()).chain_request(CHAIN, "eth_chainId", "[]")
    assert info.value.kind == "denied"
    assert "not granted to module 'watcher'" in info.value.message


def test_gate_caps_chain_calls_per_event_counting_batch_items(
    anvil: Anvil, make_backend: Backends
) -> None:
    backend = make_backend([chain_settings(anvil, max_calls_per_event=3)])
    calls = gate(backend)
    calls.chain_request_batch(CHAIN, [("eth_chainId", "[]"), ("eth_blockNumber", "[]")])
    calls.chain_request(CHAIN, "eth_chainId", "[]")
    with pytest.raises(HostCallError) as info:
        calls.chain_request(CHAIN, "eth_chainId", "[]")
    assert info.value.kind == "limit-exceeded"
    assert "max_calls_per_event" in info.value.message


def test_operator_grant_lets_one_module_mine_on_anvil(anvil: Anvil, make_backend: Backends) -> None:
    backend = make_backend([chain_settings(anvil)])
    with pytest.raises(HostCallError, match="deny_methods"):
        gate(backend).chain_request(CHAIN, "anvil_mine", '["0x1"]')
    before = int(anvil.rpc("eth_blockNumber"), 16)
    gate(backend, methods=("anvil_mine",)).chain_request(CHAIN, "anvil_mine", '["0x1"]')
    assert int(anvil.rpc("eth_blockNumber"), 16) == before + 1
