"""Attack: print to stdout though the operator denied the module its logging."""

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    print("printed without a logging grant")
