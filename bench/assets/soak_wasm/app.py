"""Soak guest: counts webhooks; traps on the first attempt of every 89th one (the instance
is rebuilt, the event retried)."""

import json

from cove_sdk import WitWorld, on_webhook, state

__all__ = ["WitWorld"]

CRASH_EVERY = 89


@on_webhook
def hook(hook, meta):
    n = json.loads(bytes(hook.body))["n"]
    if n % CRASH_EVERY == 0 and meta.attempt == 1:
        raise RuntimeError(f"soak: planned trap on webhook {n}")
    state.incr("webhooks")
