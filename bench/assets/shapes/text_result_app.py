"""A text event and text store values, every error a ``result`` (missing key: not-found)."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import text_store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: str) -> None:
        try:
            value = text_store.get("counter")
        except Err:
            value = "0"
        text_store.set("counter", str(int(value) + 1))
