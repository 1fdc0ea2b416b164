"""The compact byte event with the text store of ``text_option``: the event's share alone."""

import wit_world
from wit_world.imports import option_store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: bytes) -> None:
        value = option_store.get("counter")
        option_store.set("counter", str(int(value or "0") + 1))
