"""examples/erc20_watcher on a real engine against anvil: balances, signed alerts, reorgs.

The module is the shipped example, built with componentize-py; each test
gets a fresh anvil so the token lands at the address its manifest names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from cove.testing import MemoryTransport
from tests.helpers.anvil import Anvil
from tests.helpers.chain_examples import (
    PASSPHRASE,
    PASSPHRASE_ENV,
    WATCHER,
    chain_balances,
    chain_section,
    source_started,
    watched_balances,
    watcher_identity,
    watcher_module,
)
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.token import DEV, FIRST_CONTRACT, SUPPLY, UNIT, deploy_token, transfer

pytestmark = pytest.mark.slow  # builds the example with componentize-py (cached by inputs)


@pytest.fixture
def config(fresh_anvil: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The engine config running the watcher on ``fresh_anvil``, and the watcher's address."""
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    identity, address = watcher_identity(tmp_path)
    module = watcher_module(tmp_path / "erc20_watcher")
    path = write_engine_config(
        tmp_path / "engine.toml", [module], chain_section(fresh_anvil) + identity
    )
    return path, address


async def test_the_watcher_keeps_running_balances_and_sends_signed_alerts(
    fresh_anvil: Anvil, config: tuple[Path, str]
) -> None:
    path, signer = config
    alerts = MemoryTransport("console")
    async with running_engine(path, transports=[alerts]) as engine:
        assert engine.load_errors == {}
        await source_started(engine)
        token = deploy_token(fresh_anvil)
        assert token == FIRST_CONTRACT
        transfer(fresh_anvil, token, DEV[0], DEV[1], 500 * UNIT)
        large = transfer(fresh_anvil, token, DEV[0], DEV[1], 5_000 * UNIT)
        transfer(fresh_anvil, token, DEV[1], DEV[2], 1_000 * UNIT)  # not more than the threshold
        await wait_until(lambda: state_json(engine, WATCHER, "transfers") == 4, what="4 transfers")
        await wait_until(lambda: len(alerts.sent) == 2, what="the alerts")
        assert watched_balances(engine) == chain_balances(fresh_anvil, token)
        assert watched_balances(engine)[DEV[0]] == SUPPLY - 5_500 * UNIT
        key = f"alert:{large}:0"
        assert len(engine.store.list_keys(WATCHER, "alert:")) == 2
        stored = state_json(engine, WATCHER, key)
    mint, sent = alerts.sent  # minting the supply is a large transfer too
    assert mint.body.startswith(f"large transfer: 1000000 COVE from 0x{'0' * 40} to {DEV[0]}")
    assert sent.recipient == "ops"
    assert sent.body.startswith(f"large transfer: 5000 COVE from {DEV[0]} to {DEV[1]}")
    assert large in sent.body
    assert stored["amount"] == str(5_000 * UNIT)
    metadata = dict(sent.metadata)
    assert metadata["signer"] == stored["signer"] == signer
    statement = metadata["attestation"]
    assert large in statement and f"{5_000 * UNIT} base units of {token}" in statement
    recovered = Account.recover_message(
        encode_defunct(text=statement), signature=metadata["signature"]
    )
    assert recovered == signer


async def test_a_reorg_reverses_the_removed_transfers_and_retracts_their_alert(
    fresh_anvil: Anvil, config: tuple[Path, str]
) -> None:
    alerts = MemoryTransport("console")
    async with running_engine(config[0], transports=[alerts]) as engine:
        await source_started(engine)
        token = deploy_token(fresh_anvil)
        transfer(fresh_anvil, token, DEV[0], DEV[1], 100 * UNIT)
        kept = chain_balances(fresh_anvil, token)
        dropped = transfer(
            fresh_anvil, token, DEV[0], DEV[2], 2_000 * UNIT
        )  # this block and the next
        transfer(fresh_anvil, token, DEV[2], DEV[1], 300 * UNIT)
        await wait_until(lambda: len(alerts.sent) == 2, what="the mint's alert and the 2000's")
        await wait_until(lambda: state_json(engine, WATCHER, "transfers") == 4)
        fresh_anvil.rpc("anvil_reorg", [2, []])
        await wait_until(lambda: len(alerts.sent) == 3, what="the retraction")
        await wait_until(lambda: state_json(engine, WATCHER, "transfers") == 2)
        assert chain_balances(fresh_anvil, token) == kept
        assert watched_balances(engine) == kept
        assert alerts.sent[2].body.startswith(f"retracted: the large transfer in {dropped}")
        (mint,) = engine.store.list_keys(WATCHER, "alert:")
        assert state_json(engine, WATCHER, mint)["from"] == f"0x{'0' * 40}"
