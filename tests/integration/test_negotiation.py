"""The negotiation example (examples/negotiation): a buyer and a seller agent, real Python
guests, bargaining over NIP-44 encrypted DMs through a real nostr-relay.

The engine config is the shipped one with only the relay, the directories
and the control port changed. The buyer's first DM is held for approval and
released with the real ``cove approvals approve``; the relay never sees a
price in clear; with a budget of two messages an hour the buyer stops with
``limit-exceeded`` naming the budget.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cove._keystore import new_key, unlock
from cove._nostr import _nip44 as nip44
from cove._nostr._keys import NostrKey, npub
from tests.helpers.control import TOKEN, TOKEN_ENV, running_plane
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import CACHE, EXAMPLES, example_module, toml_value
from tests.helpers.nostr_relay import Relay, relay
from tests.integration.test_cli_control import cove

__all__ = ["relay"]  # the fixture

PASSPHRASE = "correct horse"


@pytest.fixture(scope="module")
def keystores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, NostrKey]]:
    """The buyer's and the seller's keystores (scrypt is slow, so once)."""
    directory = tmp_path_factory.mktemp("negotiation-keys")
    keys = {}
    for name in ("buyer", "seller"):
        new_key(directory, name, PASSPHRASE)
        keys[name] = NostrKey(bytes(unlock(directory, name, PASSPHRASE).key))
    return directory, keys


def _config(tmp_path: Path, relay: Relay, keys: Path, budget: int = 20) -> Path:
    """The shipped engine config, pointed at this test's relay, keys and directories."""
    example_module("negotiation/buyer", tmp_path / "buyer")
    example_module("negotiation/seller", tmp_path / "seller")
    text = (EXAMPLES / "negotiation" / "engine.toml").read_text()
    replace = {
        'data_dir = "../../.cove/negotiation/data"': f"data_dir = {toml_value(str(tmp_path / 'data'))}",
        'relays = ["ws://127.0.0.1:7447"]': f"relays = [{toml_value(relay.url)}]",
        "../../.cove/negotiation/keys": str(keys),
        "messages_per_hour = 20": f"messages_per_hour = {budget}",
        "port = 8789": "port = 0",
        'token_file = "../../.cove/negotiation/data/control.token"\ncreate_token = true': (
            f'token_env = "{TOKEN_ENV}"'
        ),
    }
    for old, new in replace.items():
        assert old in text, f"{old!r} is not in examples/negotiation/engine.toml"
        text = text.replace(old, new)
    text += f"\n[wasm]\ncache_dir = {toml_value(str(CACHE / 'compiled'))}\n"
    text += '\n[outbox]\nretry_initial = "100ms"\nretry_max = "500ms"\n'
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("BUYER_KEY_PASS", PASSPHRASE)
    monkeypatch.setenv("SELLER_KEY_PASS", PASSPHRASE)


def _finished(engine: Any) -> bool:
    deal = state_json(engine, "buyer", "negotiation") or {}
    return deal.get("status") not in (None, "open")


@pytest.mark.slow
@pytest.mark.usefixtures("env")
async def test_the_agents_agree_after_the_operator_approves_the_first_dm(
    tmp_path: Path, relay: Relay, keystores: tuple[Path, dict[str, NostrKey]]
) -> None:
    directory, keys = keystores
    buyer, seller = npub(keys["buyer"].pubkey), npub(keys["seller"].pubkey)
    async with running_plane(_config(tmp_path, relay, directory)) as plane:
        opened = await cove(plane, "tool", "call", "buyer.open", "-a", f"seller={seller}")
        assert 0 == opened.code, opened.err
        await wait_until(lambda: bool(plane.engine.held_actions(None, 10)), what="the held DM")
        listed = await cove(plane, "approvals", "list", "--json")
        [held] = json.loads(listed.out)["approvals"]
        assert ("buyer", "dm", seller) == (held["module"], held["transport"], held["recipient"])
        approved = await cove(plane, "approvals", "approve", str(held["id"]))
        assert 0 == approved.code, approved.err
        await wait_until(lambda: _finished(plane.engine), timeout=60, what="the outcome")
        await wait_until(
            lambda: (
                (state_json(plane.engine, "seller", f"deals/{buyer}") or {}).get("status")
                == "agreed"
            ),
            what="the seller hears the acceptance",
        )
        deal = state_json(plane.engine, "buyer", "negotiation")
        theirs = state_json(plane.engine, "seller", f"deals/{buyer}")
    assert ("agreed", 75, 2) == (deal["status"], deal["price"], deal["round"])
    assert {"id": held["id"], "approved": True} == deal["approval"]
    assert [
        ["buyer", "offer", 60],
        ["seller", "counter", 80],
        ["buyer", "offer", 70],
        ["seller", "counter", 75],
        ["buyer", "accept", 75],
    ] == deal["history"]
    assert {"status": "agreed", "price": 75, "rounds": 2, "ask": 75} == theirs
    stored = await relay.query({"kinds": [4], "authors": [keys["buyer"].pubkey.hex()]})
    stored += await relay.query({"kinds": [4], "authors": [keys["seller"].pubkey.hex()]})
    assert 5 == len(stored)
    conversation = nip44.conversation_key(keys["buyer"].secret, keys["seller"].pubkey)
    opened_bodies = [json.loads(nip44.decrypt(e["content"], conversation)) for e in stored]
    assert {75} <= {b["price"] for b in opened_bodies}  # the price is in there, sealed
    assert all("price" not in e["content"] and "offer" not in e["content"] for e in stored)


@pytest.mark.slow
@pytest.mark.usefixtures("env")
async def test_a_buyer_out_of_message_budget_stops_with_the_reason(
    tmp_path: Path, relay: Relay, keystores: tuple[Path, dict[str, NostrKey]]
) -> None:
    directory, keys = keystores
    seller = npub(keys["seller"].pubkey)
    async with running_plane(_config(tmp_path, relay, directory, budget=2)) as plane:
        opened = await cove(plane, "tool", "call", "buyer.open", "-a", f"seller={seller}")
        assert 0 == opened.code, opened.err
        await wait_until(lambda: bool(plane.engine.held_actions(None, 10)), what="the held DM")
        [held] = plane.engine.held_actions(None, 10)
        await plane.engine.decide([held["id"]], approve=True)
        await wait_until(lambda: _finished(plane.engine), timeout=60, what="the outcome")
        deal = state_json(plane.engine, "buyer", "negotiation")
        [status] = [s for s in plane.engine.status() if s.name == "buyer"]
    assert "stopped" == deal["status"]
    assert deal["reason"].startswith("limit-exceeded: budget messages: module 'buyer'")
    assert "([budgets.buyer] messages_per_hour)" in deal["reason"]
    assert [["buyer", "offer", 60], ["seller", "counter", 80], ["buyer", "offer", 70]] == deal[
        "history"
    ][:3]
    assert ("running", 0) == (status.state, status.failed)  # stopped cleanly: no failed event
