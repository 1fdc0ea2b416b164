"""Test guest with a tool that never returns: the deadline must stop it."""

from cove_sdk import ToolProvider, WitWorld, tool

__all__ = ["ToolProvider", "WitWorld"]


@tool("spin", "Loops forever.")
def spin():
    n = 0
    while True:
        n += 1


@tool("ping", "Answers pong (after a spin, from a rebuilt instance).")
def ping():
    return "pong"
