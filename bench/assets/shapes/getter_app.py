"""The getter candidate: the event stays in the host, each field read is a call."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import event_fields, store


class WitWorld(wit_world.WitWorld):
    def handle(self, event: int) -> None:
        if event == 2:  # the bench's "read two fields" events
            event_fields.field(event, 0)
            event_fields.field(event, 1)
        try:
            value = store.get("counter")
        except Err:
            value = b"0"
        store.set("counter", str(int(value) + 1).encode())
