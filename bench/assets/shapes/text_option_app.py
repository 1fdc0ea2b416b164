"""A text event and text store values; a missing key is ``None`` inside the ``ok``."""

import wit_world
from wit_world.imports import option_store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: str) -> None:
        value = option_store.get("counter")
        option_store.set("counter", str(int(value or "0") + 1))
