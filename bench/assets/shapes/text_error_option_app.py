"""A text event and text store values; errors as ``option<host-error>``, no ``result``."""

import wit_world
from wit_world.imports import error_option_store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: str) -> None:
        value, error = error_option_store.get("counter")
        if error is not None:
            raise RuntimeError(error.message)
        error = error_option_store.set("counter", str(int(value or "0") + 1))
        if error is not None:
            raise RuntimeError(error.message)
