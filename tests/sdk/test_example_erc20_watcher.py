"""examples/erc20_watcher's logic under MockHost (no wasm): amounts, thresholds, removed logs.

The engine tests (tests/chain/test_examples_*.py) run the built component on
anvil; these pin down the edges that need exact inputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cove_sdk.testing import MockHost
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.helpers.modules import EXAMPLES
from tests.helpers.token import FIRST_CONTRACT, TRANSFER_TOPIC, UNIT

ALICE, BOB = "0x" + "a1" * 20, "0x" + "b2" * 20
ZERO = "0x" + "0" * 40


def topic(address: str) -> str:
    return "0x" + address.removeprefix("0x").rjust(64, "0")


@pytest.fixture
def host() -> Iterator[MockHost]:
    yield MockHost(EXAMPLES / "erc20_watcher")


def move(
    host: MockHost,
    sender: str,
    receiver: str,
    amount: int,
    *,
    removed: bool = False,
    tx: str = "0x" + "11" * 32,
) -> None:
    host.chain_log(
        FIRST_CONTRACT,
        [TRANSFER_TOPIC, topic(sender), topic(receiver)],
        chain_id=31337,
        data=amount.to_bytes(32, "big"),
        transaction_hash=tx,
        removed=removed,
    )


def test_a_transfer_moves_the_amount_and_a_mint_credits_only_the_receiver(host: MockHost) -> None:
    move(host, ZERO, ALICE, 10 * UNIT, tx="0x" + "01" * 32)
    move(host, ALICE, BOB, 3 * UNIT + 1, tx="0x" + "02" * 32)
    assert host.state["balance:" + ALICE] == 7 * UNIT - 1
    assert host.state["balance:" + BOB] == 3 * UNIT + 1
    assert "balance:" + ZERO not in host.state
    assert host.state["transfers"] == 2
    assert host.sent == []  # 10 tokens is not more than the threshold


def test_only_a_transfer_above_the_threshold_alerts_with_a_signed_attestation(
    host: MockHost,
) -> None:
    move(host, ALICE, BOB, 1_000 * UNIT, tx="0x" + "01" * 32)  # equal: no alert
    assert host.sent == []
    move(host, ALICE, BOB, 1_234 * UNIT + UNIT // 2, tx="0x" + "02" * 32)
    (alert,) = host.sent
    assert alert.body.startswith(f"large transfer: 1234.5 COVE from {ALICE} to {BOB}")
    statement = alert.metadata["attestation"]
    assert host.identity is not None
    assert alert.metadata["signer"] == host.identity.address
    signer = Account.recover_message(
        encode_defunct(text=statement), signature=alert.metadata["signature"]
    )
    assert signer == host.identity.address


def test_a_removed_log_moves_the_amount_back_and_retracts_only_a_raised_alert(
    host: MockHost,
) -> None:
    small, large = "0x" + "01" * 32, "0x" + "02" * 32
    move(host, ALICE, BOB, 5 * UNIT, tx=small)
    move(host, ALICE, BOB, 2_000 * UNIT, tx=large)
    move(host, ALICE, BOB, 5 * UNIT, tx=small, removed=True)
    assert len(host.sent) == 1  # no alert to retract for the small one
    move(host, ALICE, BOB, 2_000 * UNIT, tx=large, removed=True)
    assert host.sent[-1].body == f"retracted: the large transfer in {large} was reorganised away"
    assert host.state["balance:" + ALICE] == 0
    assert host.state["balance:" + BOB] == 0
    assert host.state["transfers"] == 0
    assert not [k for k in host.state if k.startswith("alert:")]


def test_a_log_not_shaped_like_a_transfer_is_ignored(host: MockHost) -> None:
    host.chain_log(FIRST_CONTRACT, [TRANSFER_TOPIC, topic(ALICE)], chain_id=31337, data=b"\x01")
    assert host.state == {}
