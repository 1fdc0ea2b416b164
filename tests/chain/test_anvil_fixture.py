"""The anvil fixture: a real node on a loopback port that stops with the test module."""

from __future__ import annotations

from tests.helpers.anvil import Anvil, running_anvil


def test_anvil_answers_and_mines(anvil: Anvil) -> None:
    assert int(anvil.rpc("eth_chainId"), 16) == 31337
    before = int(anvil.rpc("eth_blockNumber"), 16)
    assert anvil.mine(3) == before + 3


def test_anvil_stops_on_exit() -> None:
    with running_anvil() as node:
        process = node.process
        assert node.rpc("eth_chainId")
    assert process.poll() is not None
