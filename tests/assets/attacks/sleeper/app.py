"""Attack: sleep far past the call's deadline (a WASI clock wait, not guest code)."""

import json
import time

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    time.sleep(json.loads(event.payload or "{}").get("seconds", 10**6))
