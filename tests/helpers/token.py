"""The example ERC-20 (examples/erc20) on anvil: deploy it, move it, read it.

Transactions go through ``eth_sendTransaction`` from anvil's unlocked dev
accounts, so no test needs a key. The bytecode is the committed artifact
(``node examples/erc20/compile.js`` regenerates it).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.anvil import Anvil

ARTIFACT = Path(__file__).resolve().parents[2] / "examples" / "erc20" / "CoveTestToken.json"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
DEV = (
    "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
)
"""anvil's first dev accounts; DEV[0] deploys, and so holds the whole supply."""
FIRST_CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
"""Where DEV[0]'s first transaction on a fresh anvil deploys: the examples' token."""
UNIT = 10**18
SUPPLY = 1_000_000 * UNIT


def _word(value: int | str) -> str:
    number = int(value, 16) if isinstance(value, str) else value
    return f"{number:064x}"


def deploy_token(anvil: Anvil, deployer: str = DEV[0]) -> str:
    """Deploy CoveTestToken; its address, lower-case."""
    bytecode = json.loads(ARTIFACT.read_text())["bytecode"]
    tx = anvil.rpc("eth_sendTransaction", [{"from": deployer, "data": bytecode}])
    receipt = anvil.receipt(tx)
    assert receipt["status"] == "0x1", receipt
    return str(receipt["contractAddress"]).lower()


def transfer(anvil: Anvil, token: str, sender: str, receiver: str, amount: int) -> str:
    """``sender`` moves ``amount`` base units to ``receiver``; the mined tx hash."""
    data = "0xa9059cbb" + _word(receiver) + _word(amount)  # transfer(address,uint256)
    tx = anvil.rpc("eth_sendTransaction", [{"from": sender, "to": token, "data": data}])
    assert anvil.receipt(tx)["status"] == "0x1"
    return str(tx)


def balance_of(anvil: Anvil, token: str, holder: str) -> int:
    data = "0x70a08231" + _word(holder)  # balanceOf(address)
    return int(anvil.rpc("eth_call", [{"to": token, "data": data}, "latest"]), 16)
