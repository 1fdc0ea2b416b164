"""``hold_value_above_wei`` on anvil: a componentize-py guest's transfer above the value is
held (its call fails with ``denied`` saying so; nothing reaches the node), survives a
restart, and once approved the outbox signs and sends it as the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from tests.chain.test_identity_engine import ask, engine_toml, signer_module, signer_wasm
from tests.helpers.anvil import Anvil
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.keys import ADDRESS, PASSPHRASE
from tests.helpers.rpc_proxy import rpc_proxy

__all__ = ["signer_wasm"]  # the session fixture, shared with test_identity_engine


def _balance(anvil: Anvil, address: str) -> int:
    return int(anvil.rpc("eth_getBalance", [address, "latest"]), 16)


async def test_a_transfer_above_the_value_waits_for_approval(
    anvil: Anvil, signer_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    anvil.rpc("anvil_setBalance", [ADDRESS, hex(10**18)])
    recipient = Account.create().address
    module = signer_module(tmp_path, "signer", signer_wasm)
    config = engine_toml(tmp_path, anvil, [module], {"signer": "SIGNER_PASS"})
    with config.open("a") as f:
        f.write("\n[budgets.signer]\nhold_value_above_wei = 1000\n")
    async with running_engine(config) as engine:
        small = await ask(
            engine,
            "signer",
            "probe.small",
            ask=["tx"],
            chain=31337,
            tx={"to": recipient, "value": 5},
        )
        big = await ask(
            engine, "signer", "probe.big", ask=["tx"], chain=31337, tx={"to": recipient, "value": 10**15}
        )  # fmt: skip
        await wait_until(lambda: bool(engine.held_actions(None, 10)), what="a held transaction")
    assert "ok" in small["tx"], small  # under the value: sent at once
    assert (
        "denied" == big["tx"]["err"] and "held for the operator's approval" in big["tx"]["message"]
    )
    assert 5 == _balance(anvil, recipient)
    async with running_engine(config) as engine:
        (held,) = engine.held_actions(None, 10)
        assert ("transaction", "chain:31337", recipient) == (
            held["kind"],
            held["transport"],
            held["recipient"],
        )
        assert "10" in held["reason"] and "above 1000 wei" in held["reason"]
        assert [held["id"]] == await engine.decide([held["id"]], approve=True)
        await wait_until(lambda: _balance(anvil, recipient) == 5 + 10**15, what="the transfer")
        assert [] == engine.held_actions(None, 10)


async def test_an_approved_transaction_whose_answer_was_lost_is_not_sent_twice(
    anvil: Anvil, signer_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node took the transaction but its answer never came back: the outbox's retry
    sends the same signed transaction again (the node knows it), never a second one
    signed with the next nonce."""
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    anvil.rpc("anvil_setBalance", [ADDRESS, hex(10**18)])
    recipient = Account.create().address
    with rpc_proxy(anvil.http_url) as proxy:
        module = signer_module(tmp_path, "signer", signer_wasm)
        config = engine_toml(tmp_path, _Through(proxy.url), [module], {"signer": "SIGNER_PASS"})  # type: ignore[arg-type]
        with config.open("a") as f:
            f.write("\n[budgets.signer]\nhold_value_above_wei = 1000\n")
            f.write('\n[outbox]\nretry_initial = "50ms"\nretry_max = "200ms"\n')
        async with running_engine(config) as engine:
            value = 10**15
            await ask(engine, "signer", "probe.big", ask=["tx"], chain=31337, tx={"to": recipient, "value": value})  # fmt: skip
            await wait_until(lambda: bool(engine.held_actions(None, 10)), what="a held transaction")
            (held,) = engine.held_actions(None, 10)
            nonce = _nonce(anvil)
            proxy.mode = "lose-sends"
            await engine.decide([held["id"]], approve=True)
            await wait_until(lambda: proxy.lost_sends >= 1, what="a send whose answer is lost")
            proxy.mode = "pass"
            await wait_until(lambda: engine.store.pending_effects(2**62, 10) == [], what="done")
        assert value == _balance(anvil, recipient)
        assert nonce + 1 == _nonce(anvil)


def _nonce(anvil: Anvil) -> int:
    return int(anvil.rpc("eth_getTransactionCount", [ADDRESS, "latest"]), 16)


class _Through:
    """What engine_toml reads of an anvil: its HTTP URL, here the proxy's."""

    def __init__(self, url: str) -> None:
        self.http_url = url
