"""Attack: write to stdout, then raise with a lone surrogate in the text, on which
componentize-py panics (writing to stderr) and the call traps."""

from cove_sdk import WitWorld, on_event

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    print("some output before the panic")
    raise ValueError("\ud800 lone")
