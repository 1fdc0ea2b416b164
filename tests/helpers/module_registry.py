"""The example module registry (examples/registry) on anvil: deploy it, publish to it.

Publications go through ``eth_sendTransaction`` from anvil's unlocked dev
accounts (tests/helpers/token.py's ``DEV``), so no test needs a key.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from cove._supply._oci_module import push
from tests.helpers.anvil import Anvil
from tests.helpers.modules import toml_value
from tests.helpers.token import DEV

ARTIFACT = Path(__file__).resolve().parents[2] / "examples" / "registry" / "CoveModuleRegistry.json"
PUBLISH = keccak(text="publish(string,string,string,bytes32)")[:4]


def deploy_registry(anvil: Anvil, deployer: str = DEV[0]) -> str:
    """Deploy CoveModuleRegistry; its address, lower-case."""
    bytecode = json.loads(ARTIFACT.read_text())["bytecode"]
    tx = anvil.rpc("eth_sendTransaction", [{"from": deployer, "data": bytecode}])
    receipt = anvil.receipt(tx)
    assert receipt["status"] == "0x1", receipt
    return str(receipt["contractAddress"]).lower()


def publish(
    anvil: Anvil, registry: str, name: str, version: str, uri: str, pin: str, sender: str = DEV[0]
) -> int:
    """``sender`` publishes ``name`` ``version``; the number of the block that holds it."""
    args = encode(
        ["string", "string", "string", "bytes32"],
        [name, version, uri, bytes.fromhex(pin.removeprefix("sha256:"))],
    )
    data = "0x" + (PUBLISH + args).hex()
    tx = anvil.rpc("eth_sendTransaction", [{"from": sender, "to": registry, "data": data}])
    receipt = anvil.receipt(tx)
    assert receipt["status"] == "0x1", receipt
    return int(receipt["blockNumber"], 16)


def push_module(directory: Path, reference: str) -> str:
    """``cove module push`` of ``directory`` to ``reference``; the component's pin."""
    pushed = push(directory, reference, 30.0)
    pin = pushed.manifest.module.sha256
    assert pin is not None
    return pin


def registry_config(anvil: Anvil, registry: str, confirmations: int = 0, extra: str = "") -> str:
    """Engine config text: anvil as chain 31337, and [registry] trusting ``DEV[0]`` only."""
    return (
        f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
        'poll_interval = "20ms"\n\n'
        "[registry]\nchain = 31337\n"
        f"address = {toml_value(registry)}\n"
        f"publishers = {toml_value([DEV[0]])}\n"
        f"confirmations = {confirmations}\n{extra}"
    )
