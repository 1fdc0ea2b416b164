"""Bench guest without the SDK: every event makes exactly two store calls (get, then set).

The same two calls as two_calls, straight on componentize-py's bindings: the
floor of a Python guest, with none of the SDK's per-event dispatch.
"""

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        pass

    def handle(self, event: str) -> None:
        value, error = store.get_text("counter")
        if error is not None:
            raise Err(error.message)
        error = store.set_text("counter", str(int(value or "0") + 1))
        if error is not None:
            raise Err(error.message)
