"""Test guest for alarms: sets them as the event asks, counts the ones that fire."""

import json

from cove_sdk import HostError, WitWorld, alarms, on_event, state

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    if event.name == alarms.EVENT:
        fired = alarms.fired(event)
        state.incr("fired")
        state.set("last", fired["payload"])
        return
    request = json.loads(event.payload or "{}")
    op = request.get("op")
    if op == "set":
        for n in range(request.get("n", 1)):
            try:
                alarms.schedule(request["delay_ms"], {"n": n, "tag": request.get("tag", "")})
                state.incr("scheduled")
            except HostError as err:
                state.set("error", err.kind)
    elif op == "set_then_fail":
        alarms.schedule(request["delay_ms"], {"doomed": True})
        raise RuntimeError("failing after setting an alarm")
