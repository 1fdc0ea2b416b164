"""The two_calls_raw guest as built against cove:host@0.2: bytes event, result<list<u8>> store.

The same two calls as two_calls, straight on componentize-py's bindings: the
floor of a Python guest, with none of the SDK's per-event dispatch.
"""

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        pass

    def handle(self, event: bytes) -> None:
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
        store.set("counter", str(int(value) + 1).encode())
