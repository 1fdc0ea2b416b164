"""Bench guest: ``n`` store gets (n = the custom event's payload), then one set."""

from cove_sdk import HostError, WitWorld, on_event
from wit_world.imports import store

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    value = None
    for _ in range(int(event.payload or "1")):
        value, error = store.get_text("counter")
        if error is not None:
            raise HostError(error.kind.name.lower(), error.message)
    error = store.set_text("counter", str(int(value or "0") + 1))
    if error is not None:
        raise HostError(error.kind.name.lower(), error.message)
