"""Test guest: asks its identity for what the event's payload lists and stores each answer."""

import json

from cove_sdk import HostError, WitWorld, identity, on_event, state

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload)
    calls = {
        "address": lambda: identity.address(),
        "message": lambda: identity.sign_message(request["message"]),
        "typed": lambda: identity.sign_typed_data(request["typed"]),
        "tx": lambda: identity.send_transaction(request["chain"], request["tx"]),
    }
    answers = {}
    for name in request["ask"]:
        try:
            answers[name] = {"ok": calls[name]()}
        except HostError as exc:
            answers[name] = {"err": exc.kind, "message": exc.message}
    state.set(event.name, answers)
