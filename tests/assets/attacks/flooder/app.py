"""Attack: flood stdout with a hundred thousand lines in one event."""

import json

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    for n in range(json.loads(event.payload or "{}").get("lines", 100_000)):
        print("flood line", n)
