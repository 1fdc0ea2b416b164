"""The identity capability: key config, unlocking, the method subset, signing, tx filling.

Signing, broadcasting and both wasm call paths run for real in
tests/chain/test_identity_engine.py; these cover the rules and the errors.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cove._capabilities._calls import HostCalls
from cove._capabilities._chain import ChainBackend, RpcCall
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._capabilities._identity import Identity, module_identity, unlock_identity
from cove._capabilities._identity_tx import parse_transaction, send_transaction
from cove._config_chain import ChainSettings
from cove._config_identity import ModuleKey
from cove._observe._logging import configure_logging
from cove.errors import CapabilityError, HostCallError, ModuleLoadError
from tests.helpers.fakes import FakeStateReader, engine_config, manifest
from tests.helpers.keys import ADDRESS, KEY, PASSPHRASE, write_keystore

MAIL = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "chainId", "type": "uint256"},
        ],
        "Alert": [{"name": "block", "type": "uint256"}, {"name": "note", "type": "string"}],
    },
    "primaryType": "Alert",
    "domain": {"name": "cove", "chainId": 31337},
    "message": {"block": 7, "note": "big transfer"},
}


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    return write_keystore(tmp_path / "keys" / "watcher.json")


def key_config(keystore: Path, **passphrase: Any) -> ModuleKey:
    return ModuleKey.model_validate({"keystore": str(keystore), **passphrase})


# config and unlocking ---------------------------------------------------------


def test_a_key_needs_exactly_one_passphrase_source(keystore: Path) -> None:
    for both_or_none in ({}, {"passphrase_env": "P", "passphrase_file": "p.txt"}):
        with pytest.raises(ValidationError, match="exactly one of passphrase_env"):
            key_config(keystore, **both_or_none)


def test_the_key_unlocks_from_an_env_var_or_a_file(
    keystore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHER_PASS", PASSPHRASE)
    by_env = unlock_identity(
        "watcher", key_config(keystore, passphrase_env="WATCHER_PASS"), tmp_path
    )
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    by_file = unlock_identity("watcher", key_config(keystore, passphrase_file="pass.txt"), tmp_path)
    assert by_env.address == by_file.address == ADDRESS


def test_relative_keystore_paths_resolve_against_the_config_directory(tmp_path: Path) -> None:
    write_keystore(tmp_path / "keys" / "w.json")
    (tmp_path / "pass.txt").write_text(PASSPHRASE)
    key = ModuleKey(keystore=Path("keys/w.json"), passphrase_file=Path("pass.txt"))
    assert unlock_identity("watcher", key, tmp_path).address == ADDRESS


def test_a_wrong_passphrase_refuses_the_module_naming_it_and_the_file(
    keystore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHER_PASS", "not it")
    with pytest.raises(ModuleLoadError) as caught:
        unlock_identity("watcher", key_config(keystore, passphrase_env="WATCHER_PASS"), tmp_path)
    assert caught.value.module == "watcher"
    assert str(keystore) in str(caught.value) and "wrong passphrase" in str(caught.value)
    assert "[identity.modules.watcher]" in str(caught.value)


def test_a_missing_keystore_or_passphrase_refuses_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    missing = tmp_path / "nope.json"
    monkeypatch.setenv("WATCHER_PASS", PASSPHRASE)
    with pytest.raises(ModuleLoadError, match=r"nope\.json does not exist"):
        unlock_identity("watcher", key_config(missing, passphrase_env="WATCHER_PASS"), tmp_path)
    keystore = write_keystore(tmp_path / "k.json")
    with pytest.raises(ModuleLoadError, match=r"NOT_SET_ANYWHERE.*is not set"):
        unlock_identity(
            "watcher", key_config(keystore, passphrase_env="NOT_SET_ANYWHERE"), tmp_path
        )


def test_an_identity_shows_its_address_never_its_key() -> None:
    identity = Identity("watcher", Account.from_key(KEY))
    assert ADDRESS in repr(identity)
    for text in (repr(identity), str(identity), f"{identity!r} {vars(identity)}"):
        assert KEY.removeprefix("0x") not in text.lower()


# grants --------------------------------------------------------------------------


def test_the_default_methods_are_all_but_send_transaction() -> None:
    grants = resolve_grants(manifest("w", optional=["identity"]), engine_config())
    assert grants.identity_methods == ("address", "sign-message", "sign-typed-data")


def test_the_manifest_names_the_methods() -> None:
    m = manifest(
        "w",
        optional=["identity"],
        capabilities={"identity": {"methods": ["address", "send-transaction"]}},
    )
    assert resolve_grants(m, engine_config()).identity_methods == ("address", "send-transaction")


def test_an_unknown_method_is_a_manifest_error() -> None:
    with pytest.raises(ValidationError, match="sign-everything"):
        manifest(
            "w", optional=["identity"], capabilities={"identity": {"methods": ["sign-everything"]}}
        )


def test_required_identity_without_a_configured_key_refuses_the_module() -> None:
    m, config = manifest("w", required=["identity"]), engine_config()
    with pytest.raises(CapabilityError, match=r"no key.*\[identity\.modules\.w\]"):
        module_identity(m, resolve_grants(m, config), config)


def test_optional_identity_without_a_key_loads_without_one() -> None:
    m, config = manifest("w", optional=["identity"]), engine_config()
    assert module_identity(m, resolve_grants(m, config), config) is None


def test_a_denied_identity_grants_no_method() -> None:
    config = engine_config(policy={"deny": ["identity"]})
    assert resolve_grants(manifest("w", optional=["identity"]), config).identity_methods == ()


# the gate --------------------------------------------------------------------------


def gate(
    methods: list[str] | None = None, *, identity: bool = True, chains: list[int] | None = None
) -> HostCalls:
    caps: dict[str, Any] = {"identity": {"methods": methods}} if methods is not None else {}
    optional = ["identity"]
    chain_config: dict[str, Any] = {}
    if chains is not None:
        optional.append("chain")
        caps["chain"] = {"chains": chains}
        chain_config = {"chains": [{"chain_id": c, "http": "http://127.0.0.1:1"} for c in chains]}
    grants = resolve_grants(
        manifest("watcher", optional=optional, capabilities=caps), engine_config(**chain_config)
    )
    return HostCalls(
        grants=grants,
        effects=EventEffects("watcher", FakeStateReader(), 1 << 20),
        config={},
        http=None,
        log_sink=lambda *a: None,
        identity=Identity("watcher", Account.from_key(KEY)) if identity else None,
    )


def test_signatures_recover_to_the_modules_address() -> None:
    calls = gate()
    assert calls.identity_address() == ADDRESS
    signature = calls.identity_sign_message(b"attest")
    assert Account.recover_message(encode_defunct(b"attest"), signature=signature) == ADDRESS
    typed = calls.identity_sign_typed_data(json.dumps(MAIL))
    assert Account.recover_message(encode_typed_data(full_message=MAIL), signature=typed) == ADDRESS
    assert [r.function for r in calls.records] == ["address", "sign-message", "sign-typed-data"]
    assert calls.records[1].summary == "6 bytes"


def test_a_method_outside_the_subset_is_denied_naming_module_and_method() -> None:
    calls = gate(["address"])
    with pytest.raises(HostCallError) as caught:
        calls.identity_sign_message(b"x")
    assert caught.value.kind == "denied"
    assert "'watcher'" in caught.value.message and "'sign-message'" in caught.value.message
    assert calls.records[-1].error is not None and calls.records[-1].error.startswith("denied")


def test_send_transaction_is_denied_by_default() -> None:
    with pytest.raises(HostCallError, match="'send-transaction'") as caught:
        gate().identity_send_transaction(31337, "{}")
    assert caught.value.kind == "denied"


def test_send_transaction_needs_the_chain_grant_for_that_chain() -> None:
    calls = gate(["send-transaction"], chains=[31337])
    calls.chain = None
    with pytest.raises(HostCallError) as caught:
        calls.identity_send_transaction(31337, "{}")
    assert caught.value.kind == "unavailable"  # no backend at all
    calls = gate(["send-transaction"], chains=[31337])
    calls.chain = ChainBackend([ChainSettings(chain_id=31337, http="http://127.0.0.1:1")])
    with pytest.raises(HostCallError, match="chain 1 is not granted") as caught:
        calls.identity_send_transaction(1, '{"to": "0x' + "11" * 20 + '"}')
    assert caught.value.kind == "denied"


def test_a_module_without_a_configured_key_gets_unsupported() -> None:
    with pytest.raises(HostCallError, match=r"no key \(\[identity\.modules\.watcher\]\)") as caught:
        gate(identity=False).identity_address()
    assert caught.value.kind == "unsupported"


def test_bad_typed_data_is_invalid_input() -> None:
    for bad in ("not json", "[]", json.dumps({**MAIL, "primaryType": "Nope"})):
        with pytest.raises(HostCallError) as caught:
            gate().identity_sign_typed_data(bad)
        assert caught.value.kind == "invalid-input"


# transactions ----------------------------------------------------------------------


TO = "0x" + "22" * 20


def test_transaction_numbers_may_be_ints_or_hex_and_from_must_be_the_module() -> None:
    tx = parse_transaction(ADDRESS, 31337, json.dumps({"to": TO, "value": "0x10", "gas": 21000}))
    assert tx == {"to": TO, "value": 16, "gas": 21000, "chainId": 31337}
    assert "from" not in parse_transaction(ADDRESS, 1, json.dumps({"from": ADDRESS.lower()}))
    problems = {
        "from": {"from": TO},
        "differs from chain-id": {"chainId": 1},
        "unknown transaction fields": {"gasLimit": 1},
        "not both": {"gasPrice": 1, "maxFeePerGas": 2},
        "non-negative integer": {"value": -1},
        "JSON object": [],
    }
    for message, body in problems.items():
        with pytest.raises(HostCallError, match=message) as caught:
            parse_transaction(ADDRESS, 31337, json.dumps(body))
        assert caught.value.kind == "invalid-input"


class ScriptedNode:
    """Answers the fill batch and records every batch; a stand-in for the chain gate."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.batches: list[list[str]] = []
        self.raw: str | None = None

    def __call__(self, calls: list[RpcCall]) -> list[str | HostCallError]:
        self.batches.append([c.method for c in calls])
        out: list[str | HostCallError] = []
        for call in calls:
            if call.method == "eth_sendRawTransaction":
                self.raw = json.loads(call.params_json)[0]
            answer = self.answers.get(call.method, "0x0")
            out.append(answer if isinstance(answer, HostCallError) else json.dumps(answer))
        return out


def test_missing_fields_are_filled_from_one_batch_then_broadcast() -> None:
    node = ScriptedNode(
        {
            "eth_getTransactionCount": "0x5",
            "eth_estimateGas": "0x5208",
            "eth_maxPriorityFeePerGas": "0x3",
            "eth_getBlockByNumber": {"baseFeePerGas": "0x10"},
        }
    )
    identity = Identity("watcher", Account.from_key(KEY))
    tx_hash = send_transaction(identity, 31337, json.dumps({"to": TO, "value": 1}), node)
    assert len(node.batches) == 2 and node.batches[1] == ["eth_sendRawTransaction"]
    assert sorted(node.batches[0]) == [
        "eth_estimateGas",
        "eth_getBlockByNumber",
        "eth_getTransactionCount",
        "eth_maxPriorityFeePerGas",
    ]
    assert node.raw is not None
    decoded = Account.recover_transaction(node.raw)
    assert decoded == ADDRESS
    sent = TypedTransaction.from_bytes(HexBytes(node.raw)).as_dict()
    assert (sent["nonce"], sent["gas"], sent["maxPriorityFeePerGas"]) == (5, 21000, 3)
    assert sent["maxFeePerGas"] == 2 * 16 + 3 and sent["chainId"] == 31337
    assert tx_hash.startswith("0x") and len(tx_hash) == 66


def test_a_filled_tip_never_exceeds_the_modules_own_fee_cap() -> None:
    node = ScriptedNode({"eth_maxPriorityFeePerGas": hex(50), "eth_estimateGas": "0x5208"})
    tx = {"to": TO, "nonce": 0, "maxFeePerGas": 20}
    send_transaction(Identity("w", Account.from_key(KEY)), 1, json.dumps(tx), node)
    assert node.raw is not None
    sent = TypedTransaction.from_bytes(HexBytes(node.raw)).as_dict()
    assert (sent["maxFeePerGas"], sent["maxPriorityFeePerGas"]) == (20, 20)


def test_an_accepted_transaction_leaves_an_audit_line_in_the_engine_log() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)  # as `cove run` does
    tx = {"to": TO, "nonce": 3, "gas": 21000, "gasPrice": 7, "value": 5}
    tx_hash = send_transaction(
        Identity("w", Account.from_key(KEY)), 1, json.dumps(tx), ScriptedNode({})
    )
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert {k: line[k] for k in ("event", "level", "module", "hash", "chain", "nonce", "to")} == {
        "event": "transaction sent",
        "level": "info",
        "module": "w",
        "hash": tx_hash,
        "chain": 1,
        "nonce": 3,
        "to": TO,
    }
    assert line["value"] == 5 and KEY.removeprefix("0x") not in out.getvalue()


def test_a_complete_transaction_needs_no_fill_batch() -> None:
    node = ScriptedNode({})
    tx = {"to": TO, "nonce": 0, "gas": 21000, "gasPrice": 7}
    send_transaction(Identity("w", Account.from_key(KEY)), 1, json.dumps(tx), node)
    assert node.batches == [["eth_sendRawTransaction"]]


def test_a_node_refusal_reaches_the_module_as_its_error() -> None:
    refusal = HostCallError("invalid-input", "chain 1: eth_estimateGas: insufficient funds")
    node = ScriptedNode({"eth_estimateGas": refusal})
    with pytest.raises(HostCallError, match="insufficient funds"):
        send_transaction(Identity("w", Account.from_key(KEY)), 1, json.dumps({"to": TO}), node)
    assert len(node.batches) == 1  # nothing was broadcast


def test_an_engine_without_identity_modules_never_imports_eth_account() -> None:
    """eth-account takes ~1 s to import; only modules with a key pay for it."""
    code = "import sys, cove, cove._engine._engine; print('eth_account' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


NUMBER_FIELDS = ["value", "gas", "nonce", "maxFeePerGas", "maxPriorityFeePerGas", "type"]


@given(
    st.dictionaries(st.sampled_from(NUMBER_FIELDS), st.integers(0, 2**256 - 1)),
    st.lists(st.booleans(), min_size=len(NUMBER_FIELDS), max_size=len(NUMBER_FIELDS)),
)
def test_a_number_parses_the_same_as_an_int_or_as_hex(
    numbers: dict[str, int], as_hex: list[bool]
) -> None:
    written = {k: hex(v) if as_hex[NUMBER_FIELDS.index(k)] else v for k, v in numbers.items()}
    parsed = parse_transaction(ADDRESS, 5, json.dumps({"to": TO, **written}))
    assert parsed == {"to": TO, "chainId": 5, **numbers}


def is_hex_number(text: str) -> bool:
    try:
        return text.startswith("0x") and int(text, 16) >= 0
    except ValueError:
        return False


@given(
    st.one_of(
        st.text(max_size=8).filter(lambda s: not is_hex_number(s)),
        st.floats(),
        st.booleans(),
        st.integers(max_value=-1),
    )
)
def test_anything_else_as_a_number_is_invalid_input(value: object) -> None:
    with pytest.raises(HostCallError) as caught:
        parse_transaction(ADDRESS, 5, json.dumps({"value": value}))
    assert caught.value.kind == "invalid-input"
