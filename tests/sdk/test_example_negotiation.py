"""examples/negotiation's two rules under MockHost (no wasm, no relay): each agent is fed the
other's moves as messages. The whole exchange over a real relay is
tests/integration/test_negotiation.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cove_sdk import HostError
from cove_sdk.testing import MockHost

from tests.helpers.modules import EXAMPLES

SELLER = "npub1seller"
BUYER = "npub1buyer"


def _moves(host: MockHost) -> list[dict[str, Any]]:
    return [json.loads(s.body) for s in host.sent]


def _answer(host: MockHost, move: dict[str, Any], sender: str) -> dict[str, Any]:
    host.message(json.dumps(move), sender=sender, transport="dm")
    return _moves(host)[-1]


def test_the_buyer_meets_the_seller_halfway_and_accepts_within_the_margin() -> None:
    buyer = MockHost(EXAMPLES / "negotiation" / "buyer")
    buyer.call_tool("open", seller=SELLER)
    assert [{"type": "offer", "round": 1, "price": 60}] == _moves(buyer)
    assert {"type": "offer", "round": 2, "price": 70} == _answer(
        buyer, {"type": "counter", "round": 1, "price": 80}, SELLER
    )
    assert {"type": "accept", "round": 2, "price": 75} == _answer(
        buyer, {"type": "counter", "round": 2, "price": 75}, SELLER
    )
    deal = buyer.state["negotiation"]
    assert ("agreed", 75) == (deal["status"], deal["price"])


def test_the_seller_counters_halfway_never_below_its_floor_and_accepts_within_the_margin() -> None:
    seller = MockHost(EXAMPLES / "negotiation" / "seller", config={"floor": 85})
    offer = {"type": "offer", "round": 1, "price": 60}
    assert {"type": "counter", "round": 1, "price": 85} == _answer(seller, offer, BUYER)
    seller = MockHost(EXAMPLES / "negotiation" / "seller")
    assert 80 == _answer(seller, offer, BUYER)["price"]
    assert {"type": "accept", "price": 77} == _answer(
        seller, {"type": "offer", "round": 2, "price": 77}, BUYER
    )
    assert {"status": "agreed", "ask": 80, "rounds": 2, "price": 77} == seller.state[
        f"deals/{BUYER}"
    ]


def test_the_buyer_walks_away_after_max_rounds_when_the_seller_will_not_come_down() -> None:
    buyer = MockHost(EXAMPLES / "negotiation" / "buyer", config={"max_rounds": 3})
    buyer.call_tool("open", seller=SELLER)
    for n in range(1, 4):
        _answer(buyer, {"type": "counter", "round": n, "price": 95}, SELLER)
    assert [60, 77, 80, None] == [m["price"] for m in _moves(buyer)]
    assert "walk-away" == _moves(buyer)[-1]["type"]
    deal = buyer.state["negotiation"]
    assert ("walked-away", "buyer") == (deal["status"], deal["by"])


def test_a_denied_first_dm_ends_the_negotiation_and_strangers_are_ignored() -> None:
    buyer = MockHost(EXAMPLES / "negotiation" / "buyer")
    buyer.call_tool("open", seller=SELLER)
    buyer.message(json.dumps({"type": "accept", "price": 1}), sender="npub1mallory", transport="dm")
    assert "open" == buyer.state["negotiation"]["status"]
    buyer.custom("cove.approval", {"id": 7, "approved": False, "recipient": SELLER})
    deal = buyer.state["negotiation"]
    assert ("denied", {"id": 7, "approved": False}) == (deal["status"], deal["approval"])
    assert 1 == len(buyer.sent)


def test_a_second_open_while_one_is_open_is_refused() -> None:
    buyer = MockHost(EXAMPLES / "negotiation" / "buyer")
    buyer.call_tool("open", seller=SELLER)
    with pytest.raises(HostError) as refused:
        buyer.call_tool("open", seller="npub1other")
    assert "invalid-input" == refused.value.kind
    assert SELLER in refused.value.message
