"""Bench guest built against cove:host@0.1.0 (handle(meta, event)), without the SDK.

The same two calls as two_calls_raw on the 0.1 event shape (the event-meta
record and the event variant): the "before" row of bench/event_shapes.py.
"""

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        pass

    def handle(self, meta, event) -> None:
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
        store.set("counter", str(int(value) + 1).encode())
