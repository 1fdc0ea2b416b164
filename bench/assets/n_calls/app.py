"""Bench guest: ``n`` store gets (n = the custom event's payload), then one set."""

from componentize_py_types import Err
from cove_sdk import WitWorld, on_event
from wit_world.imports import store

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    value = b"0"
    for _ in range(int(event.payload or "1")):
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
    store.set("counter", str(int(value) + 1).encode())
