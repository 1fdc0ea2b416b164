"""Seller agent: answers each buyer's offer over encrypted DMs, meeting it halfway.

The rule: accept an offer within `margin` of the current asking price (and
not below `floor`); otherwise counter with the midpoint (never below
`floor`). Each buyer (by npub) has its own negotiation in state, under
`deals/<npub>`.
"""

import json

from cove_sdk import WitWorld, config, on_message, send, state

__all__ = ["WitWorld"]


@on_message
def on_offer(msg, meta):
    key = "deals/" + msg.sender
    deal = state.get(key) or {"status": "open", "ask": int(config.get("asking", 100)), "rounds": 0}
    move = json.loads(msg.body)
    if move["type"] == "accept":
        deal.update(status="agreed", price=move["price"])
    elif move["type"] == "walk-away":
        deal["status"] = "walked-away"
    elif deal["status"] == "open":
        deal["rounds"] = move["round"]
        answer(msg, deal, int(move["price"]))
    state.set(key, deal)


def answer(msg, deal, offered):
    floor = int(config.get("floor", 70))
    transport = config.get("transport", "dm")
    if offered >= floor and deal["ask"] - offered <= int(config.get("margin", 5)):
        deal.update(status="agreed", price=offered)
        send(transport, msg.sender, json.dumps({"type": "accept", "price": offered}))
        return
    deal["ask"] = max(floor, -(-(deal["ask"] + offered) // 2))  # the midpoint, rounded up
    body = {"type": "counter", "round": deal["rounds"], "price": deal["ask"]}
    send(transport, msg.sender, json.dumps(body))
