"""Attack: each event emits many events the module subscribes to itself."""

import json

from cove_sdk import WitWorld, emit, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload or "{}")
    for _ in range(request.get("n", 999)):
        emit(event.name, request)
