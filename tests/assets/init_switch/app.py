"""Test guest whose init traps when its config says so (a broken new version, for reload tests)."""

from cove_sdk import WitWorld, config, on_event, on_init, state

__all__ = ["WitWorld"]


@on_init
def setup():
    if config.get("trap"):
        raise RuntimeError("init traps on purpose")


@on_event("custom")
def count(event, meta):
    state.incr("count")
