"""Attack: fetch a body the server drips one byte at a time, so every read is quick."""

import json

from cove_sdk import WitWorld, fetch, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    fetch(json.loads(event.payload)["url"])
