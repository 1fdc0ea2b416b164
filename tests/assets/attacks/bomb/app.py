"""Attack: allocate until the memory cap traps the call, on every attempt."""

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))
