"""Buyer agent: opens with an offer to a seller's npub, then meets the seller halfway.

The rule, readable on purpose: on each counter-offer, accept it when it is
within `margin` of the buyer's last offer (and not above `max_price`);
otherwise offer the midpoint (never above `max_price`); after `max_rounds`
offers, walk away. Every offer goes out as a NIP-44 encrypted DM on the
`dm` transport. A send refused by the operator's budget (`limit-exceeded`)
ends the negotiation as `stopped`, its reason kept in state, rather than
failing the event over and over.
"""

import json

from cove_sdk import HostError, ToolProvider, WitWorld, config, log, on_event, state, tool
from cove_sdk import send as host_send

__all__ = ["ToolProvider", "WitWorld"]

KEY = "negotiation"
FINISHED = ("agreed", "walked-away", "stopped", "denied")


@tool(
    "open",
    "Open a negotiation with a seller agent: the first offer goes out as an encrypted DM.",
    {
        "type": "object",
        "properties": {"seller": {"type": "string", "description": "the seller's npub"}},
        "required": ["seller"],
    },
)
def open_negotiation(seller):
    deal = state.get(KEY)
    if deal is not None and deal["status"] not in FINISHED:
        raise HostError("invalid-input", f"a negotiation with {deal['seller']} is open")
    opening = int(config.get("opening", 60))
    deal = {"seller": seller, "status": "open", "round": 1, "offer": opening, "history": []}
    offer(deal, "offer", opening)
    state.set(KEY, deal)
    return deal


@on_event("message")
def on_reply(msg, meta):
    deal = state.get(KEY)
    if deal is None or msg.sender != deal["seller"] or deal["status"] in FINISHED:
        log("message ignored", level="warn", sender=msg.sender)
        return
    reply = json.loads(msg.body)
    deal["history"].append(["seller", reply["type"], reply.get("price")])
    if reply["type"] == "accept":
        finish(deal, "agreed", price=reply["price"])
    elif reply["type"] == "walk-away":
        finish(deal, "walked-away", by="seller")
    else:
        respond(deal, int(reply["price"]))
    state.set(KEY, deal)


def respond(deal, asked):
    """The buyer's rule, given the seller's counter-offer."""
    deal["asked"] = asked
    if asked <= int(config.get("max_price", 80)) and asked - deal["offer"] <= margin():
        if offer(deal, "accept", asked):
            finish(deal, "agreed", price=asked)
    elif deal["round"] >= int(config.get("max_rounds", 6)):
        if offer(deal, "walk-away", None):
            finish(deal, "walked-away", by="buyer")
    else:
        deal["round"] += 1
        deal["offer"] = min(int(config.get("max_price", 80)), (deal["offer"] + asked) // 2)
        offer(deal, "offer", deal["offer"])


@on_event("custom")
def on_approval(event, meta):
    if event.name != "cove.approval":
        return
    decision = json.loads(event.payload)
    deal = state.get(KEY)
    if deal is None:
        return
    deal["approval"] = {"id": decision["id"], "approved": decision["approved"]}
    if not decision["approved"]:
        finish(deal, "denied", reason="the operator denied the first DM to the seller")
    state.set(KEY, deal)


def offer(deal, kind, price):
    """Send one move to the seller; False (and the deal stopped) when the budget refuses it."""
    body = {"type": kind, "round": deal["round"], "price": price}
    try:
        host_send(config.get("transport", "dm"), deal["seller"], json.dumps(body))
    except HostError as exc:
        if exc.kind != "limit-exceeded":
            raise
        finish(deal, "stopped", reason=f"{exc.kind}: {exc.message}")
        log("negotiation stopped", level="warn", reason=exc.message)
        return False
    deal["history"].append(["buyer", kind, price])
    return True


def finish(deal, status, **details):
    deal["status"] = status
    deal.update(details)


def margin():
    return int(config.get("margin", 5))
