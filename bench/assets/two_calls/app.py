"""Bench guest: every event makes exactly two store calls (get, then set)."""

from componentize_py_types import Err
from cove_sdk import WitWorld, on_event
from wit_world.imports import store

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    try:
        value = store.get("counter")
    except Err:
        value = b"0"
    store.set("counter", str(int(value) + 1).encode())
