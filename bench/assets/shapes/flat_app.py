"""The flat-record candidate: one record, every field lifted up front."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


class WitWorld(wit_world.WitWorld):
    def handle(self, event) -> None:
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
        store.set("counter", str(int(value) + 1).encode())
