"""A guest built against cove:host@0.2.0 (handle takes the event as compact bytes).

No SDK (the SDK follows the current contract): componentize-py's bindings of
the pinned 0.2 WIT. It reads the header of the compact event (u8 kind, u32
attempt, u64 accepted-at-ms, the id) and keeps it in its state, so a test
sees the bytes arrived in the 0.2 layout.
"""

import json
import struct

import wit_world
from componentize_py_types import Err
from wit_world.imports import store

_HEAD = struct.Struct("<BIQI")


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        pass

    def handle(self, event: bytes) -> None:
        kind, attempt, _, size = _HEAD.unpack_from(event)
        try:
            count = json.loads(store.get("count"))
        except Err:
            count = 0
        ident = event[_HEAD.size : _HEAD.size + size].decode()
        store.set("count", json.dumps(count + 1).encode())
        store.set("last", json.dumps({"kind": kind, "attempt": attempt, "id": ident}).encode())
