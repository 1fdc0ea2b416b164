"""A guest built against cove:host@0.1.0 (handle takes event-meta and the event variant).

No SDK (the SDK follows the current contract): componentize-py's bindings of
the pinned 0.1 WIT, as a component built before 0.2 would have them. It keeps
what the event carried in its state, so a test sees that each field arrived.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import store, types


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        pass

    def handle(self, meta, event) -> None:
        if not isinstance(event, types.Event_Custom):
            raise Err(f"expected a custom event, got {type(event).__name__}")
        try:
            count = json.loads(store.get("count"))
        except Err:
            count = 0
        seen = {"id": meta.id, "attempt": meta.attempt, "name": event.value.name,
                "payload": json.loads(event.value.payload)}  # fmt: skip
        store.set("count", json.dumps(count + 1).encode())
        store.set("last", json.dumps(seen).encode())
