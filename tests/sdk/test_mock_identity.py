"""MockHost's identity: real signatures with a fixed test key, the engine's method checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cove_sdk import HostError
from cove_sdk.testing import MOCK_KEY, MockHost
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._capabilities._identity import Identity
from cove._manifest import load_manifest
from cove.errors import HostCallError
from tests.helpers.fakes import FakeStateReader, engine_config

MANIFEST = """
[module]
name = "attester"
kind = "wasm"
component = "attester.wasm"

[capabilities]
required = ["store", "identity"]
optional = ["chain"]

[capabilities.identity]
methods = {methods}

[capabilities.chain]
chains = [31337]

[[subscription]]
kind = "custom"
name = "attest.*"
"""

APP = """
import json
from cove_sdk import WitWorld, identity, on_event, state

__all__ = ["WitWorld"]


@on_event("custom")
def attest(event, meta):
    request = json.loads(event.payload)
    if event.name == "attest.message":
        state.set("signature", identity.sign_message(request["text"]))
    elif event.name == "attest.typed":
        state.set("signature", identity.sign_typed_data(request["typed"]))
    else:
        state.set("tx", identity.send_transaction(request["chain"], request["tx"]))
    state.set("address", identity.address())
"""

TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}],
        "Note": [{"name": "text", "type": "string"}],
    },
    "primaryType": "Note",
    "domain": {"name": "mock"},
    "message": {"text": "hello"},
}
MOCK_ADDRESS = Account.from_key(MOCK_KEY).address


def module(tmp_path: Path, methods: str = '["address", "sign-message", "sign-typed-data"]') -> Path:
    root = tmp_path / "attester"
    root.mkdir()
    (root / "cove.toml").write_text(textwrap.dedent(MANIFEST.format(methods=methods)))
    (root / "app.py").write_text(textwrap.dedent(APP))
    return root


def test_signatures_recover_to_the_mock_key(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    assert host.identity is not None and host.identity.address == MOCK_ADDRESS
    host.custom("attest.message", {"text": "block 9"})
    signed = encode_defunct(b"block 9")
    assert Account.recover_message(signed, signature=host.state["signature"]) == MOCK_ADDRESS
    host.custom("attest.typed", {"typed": TYPED})
    typed = encode_typed_data(full_message=TYPED)
    assert Account.recover_message(typed, signature=host.state["signature"]) == MOCK_ADDRESS
    assert host.state["address"] == MOCK_ADDRESS


def test_a_method_outside_the_subset_is_denied_like_the_engine(tmp_path: Path) -> None:
    root = module(tmp_path)
    host = MockHost(root)
    with pytest.raises(HostError) as caught:
        host.custom("attest.send", {"chain": 31337, "tx": {"to": MOCK_ADDRESS}})
    grants = resolve_grants(
        load_manifest(root),
        engine_config(
            chains=[{"chain_id": 31337, "http": "http://127.0.0.1:1"}],
            identity={"modules": {"attester": {"keystore": "k.json", "passphrase_env": "P"}}},
        ),
    )
    calls = HostCalls(
        grants,
        EventEffects("attester", FakeStateReader(), 1 << 20),
        {},
        None,
        print,
        identity=Identity("attester", Account.from_key(MOCK_KEY)),
    )
    with pytest.raises(HostCallError) as engine:
        calls.identity_send_transaction(31337, "{}")
    assert (engine.value.kind, engine.value.message) == (caught.value.kind, caught.value.message)


def test_a_send_is_signed_recorded_and_survives_a_failed_handler(tmp_path: Path) -> None:
    methods = '["address", "send-transaction"]'
    host = MockHost(module(tmp_path, methods), identity_key="0x" + "4b" * 32)
    host.custom("attest.send", {"chain": 31337, "tx": {"to": MOCK_ADDRESS, "value": 5}})
    assert host.identity is not None
    (sent,) = host.identity.sent
    assert sent.chain_id == 31337 and sent.tx["value"] == 5 and sent.tx["nonce"] == 0
    assert host.state["tx"] == sent.hash
    with pytest.raises(HostError) as caught:
        host.custom("attest.send", {"chain": 1, "tx": {"to": MOCK_ADDRESS}})
    assert caught.value.kind == "denied" and "chain 1 is not granted" in caught.value.message
    assert len(host.identity.sent) == 1
