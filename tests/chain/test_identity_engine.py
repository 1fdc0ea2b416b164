"""The identity capability on a real engine: a componentize-py guest signs and sends on anvil.

The keystore is a real v3 file unlocked at module load; signatures are
checked by recovering them with eth-account, the transfer by its receipt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from structlog.testing import capture_logs

from cove import Custom, Engine, Event, Trajectory
from tests.helpers.anvil import Anvil
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.keys import ADDRESS, KEY, PASSPHRASE, write_keystore
from tests.helpers.modules import build_guest, toml_value, write_engine_config, write_manifest

ALL_METHODS = ["address", "sign-message", "sign-typed-data", "send-transaction"]
TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "chainId", "type": "uint256"},
        ],
        "Attestation": [
            {"name": "block", "type": "uint256"},
            {"name": "holder", "type": "address"},
        ],
    },
    "primaryType": "Attestation",
    "domain": {"name": "cove-test", "chainId": 31337},
    "message": {"block": 12, "holder": "0x" + "33" * 20},
}


@pytest.fixture(scope="session")
def signer_wasm() -> Path:
    """tests/assets/identity_signer compiled with componentize-py."""
    return build_guest("identity_signer", ["identity", "store"])


def signer_module(directory: Path, name: str, wasm: Path, methods: list[str] = ALL_METHODS) -> Path:
    module = write_manifest(
        directory / name, name, component=wasm, required=["store", "identity"], optional=["chain"]
    )
    with (module / "cove.toml").open("a") as manifest:
        manifest.write(f"\n[capabilities.identity]\nmethods = {toml_value(methods)}\n")
        manifest.write("\n[capabilities.chain]\nchains = [31337]\n")
    return module


def engine_toml(tmp_path: Path, anvil: Anvil, modules: list[Path], keys: dict[str, str]) -> Path:
    """``keys``: module name -> passphrase env var; every module gets the test keystore."""
    keystore = write_keystore(tmp_path / "keys" / "signer.json")
    extra = f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
    for name, env in keys.items():
        extra += (
            f"\n[identity.modules.{name}]\nkeystore = {toml_value(str(keystore))}\n"
            f"passphrase_env = {toml_value(env)}\n"
        )
    return write_engine_config(tmp_path / "engine.toml", modules, extra)


def receipt_nonce(anvil: Anvil, tx_hash: str) -> int:
    return int(anvil.rpc("eth_getTransactionByHash", [tx_hash])["nonce"], 16)


async def ask(engine: Engine, module: str, name: str, **request: Any) -> dict[str, Any]:
    await engine.publish([Event(Custom(name, "", json.dumps(request)))])
    await wait_until(lambda: state_json(engine, module, name) is not None, what=name)
    answers: dict[str, Any] = state_json(engine, module, name)
    return answers


@pytest.mark.usefixtures("call_path")
async def test_a_component_signs_with_the_keystore_key_and_never_sees_it(
    anvil: Anvil,
    signer_wasm: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    module = signer_module(tmp_path, "signer", signer_wasm)
    config = engine_toml(tmp_path, anvil, [module], {"signer": "SIGNER_PASS"})
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        assert engine.load_errors == {}
        answers = await ask(
            engine,
            "signer",
            "probe.sign",
            ask=["address", "message", "typed"],
            message="attest: block 12",
            typed=TYPED,
        )
    assert answers["address"] == {"ok": ADDRESS}
    message = encode_defunct(b"attest: block 12")
    assert Account.recover_message(message, signature=answers["message"]["ok"]) == ADDRESS
    typed = encode_typed_data(full_message=TYPED)
    assert Account.recover_message(typed, signature=answers["typed"]["ok"]) == ADDRESS
    calls = [c for t in trajectories for c in t.calls if c.interface == "identity"]
    assert [c.function for c in calls] == ["address", "sign-message", "sign-typed-data"]
    # The key is nowhere: not in the store, the trajectories, or anything logged.
    secret = KEY.removeprefix("0x")
    out, err = capfd.readouterr()
    assert secret not in (out + err).lower() and PASSPHRASE not in out + err
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert bytes.fromhex(secret) not in data and secret.encode() not in data.lower(), path


@pytest.mark.usefixtures("call_path")
async def test_a_component_sends_a_value_transfer_on_anvil(
    anvil: Anvil,
    signer_wasm: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    anvil.rpc("anvil_setBalance", [ADDRESS, hex(10**18)])
    recipient = Account.create().address
    module = signer_module(tmp_path, "signer", signer_wasm)
    config = engine_toml(tmp_path, anvil, [module], {"signer": "SIGNER_PASS"})
    with capture_logs() as logs:
        async with running_engine(config) as engine:
            answers = await ask(
                engine,
                "signer",
                "probe.send",
                ask=["tx"],
                chain=31337,
                tx={"to": recipient, "value": 10**15},
            )
            assert "ok" in answers["tx"], answers
            receipt = anvil.receipt(answers["tx"]["ok"])
            assert receipt["status"] == "0x1"
            assert receipt["from"].lower() == ADDRESS.lower()
            assert receipt["to"].lower() == recipient.lower()
            assert int(anvil.rpc("eth_getBalance", [recipient, "latest"]), 16) == 10**15
            poor = await ask(
                engine,
                "signer",
                "probe.too-much",
                ask=["tx"],
                chain=31337,
                tx={"to": recipient, "value": 10**24},
            )
    tx_hash = answers["tx"]["ok"]
    audit = [entry for entry in logs if entry["event"] == "transaction sent"]
    assert audit == [
        {
            "event": "transaction sent",
            "log_level": "info",
            "module": "signer",
            "hash": tx_hash,
            "chain": 31337,
            "nonce": receipt_nonce(anvil, tx_hash),
            "to": recipient,
            "value": 10**15,
        }
    ]
    assert poor["tx"]["err"] == "invalid-input"
    assert "insufficient funds" in poor["tx"]["message"].lower()


@pytest.mark.usefixtures("call_path")
async def test_methods_outside_the_manifest_subset_are_denied(
    anvil: Anvil, signer_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    module = signer_module(tmp_path, "signer", signer_wasm, methods=["address"])
    config = engine_toml(tmp_path, anvil, [module], {"signer": "SIGNER_PASS"})
    async with running_engine(config) as engine:
        answers = await ask(
            engine,
            "signer",
            "probe.deny",
            ask=["address", "message", "tx"],
            message="x",
            chain=31337,
            tx={"to": ADDRESS},
        )
    assert answers["address"] == {"ok": ADDRESS}
    for name, method in (("message", "sign-message"), ("tx", "send-transaction")):
        assert answers[name]["err"] == "denied"
        assert "'signer'" in answers[name]["message"]
        assert repr(method) in answers[name]["message"]


async def test_a_wrong_passphrase_refuses_that_module_and_the_others_run(
    anvil: Anvil, signer_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOD_PASS", PASSPHRASE)
    monkeypatch.setenv("BAD_PASS", "not the passphrase")
    good = signer_module(tmp_path, "good", signer_wasm)
    bad = signer_module(tmp_path, "bad", signer_wasm)
    config = engine_toml(tmp_path, anvil, [bad, good], {"good": "GOOD_PASS", "bad": "BAD_PASS"})
    async with running_engine(config) as engine:
        assert list(engine.runners) == ["good"]
        (error,) = engine.load_errors.values()
        assert "module 'bad'" in error and "wrong passphrase" in error
        assert str(tmp_path / "keys" / "signer.json") in error
        answers = await ask(engine, "good", "probe.still", ask=["address"])
    assert answers["address"] == {"ok": ADDRESS}


PLUGIN = """
from cove import Plugin
from cove.errors import HostCallError
from cove.plugin import SetState


class Signer(Plugin):
    def handle_event(self, event, ctx):
        signature = ctx.identity.sign_message("native " + event.payload.name)
        try:
            ctx.identity.send_transaction(31337, {"to": ctx.identity.address()})
            sent = "sent"
        except HostCallError as exc:
            sent = exc.kind
        return [SetState("seen", {"signature": signature, "send": sent})]
"""


async def test_a_native_plugin_signs_through_its_context(
    anvil: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    module = write_manifest(
        tmp_path / "native",
        "native",
        kind="python",
        entry="signer:Signer",
        required=["store", "identity"],
    )
    (module / "signer.py").write_text(PLUGIN)
    config = engine_toml(tmp_path, anvil, [module], {"native": "SIGNER_PASS"})
    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("probe.native", "", "{}"))])
        await wait_until(lambda: state_json(engine, "native", "seen") is not None)
        seen = state_json(engine, "native", "seen")
    message = encode_defunct(text="native probe.native")
    assert Account.recover_message(message, signature=seen["signature"]) == ADDRESS
    assert seen["send"] == "denied"  # not in the default methods
