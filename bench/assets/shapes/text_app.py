"""The compact-text candidate: the event as one JSON array string, decoded when read."""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: str) -> None:
        if event[1] == "2":  # the bench's "read every field" events
            json.loads(event)
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
        store.set("counter", str(int(value) + 1).encode())
