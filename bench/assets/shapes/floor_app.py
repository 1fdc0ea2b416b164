"""The floor: a string event, string imports without result types."""

import wit_world
from wit_world.imports import floor_store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: str) -> None:
        value = floor_store.get("counter")
        floor_store.set("counter", str(int(value or "0") + 1))
