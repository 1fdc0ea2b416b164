"""Attack: raise an exception whose text is huge, or is markup a console would render."""

import json

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload or "{}")
    raise ValueError(request.get("text") or "x" * request.get("size", 5_000_000))
