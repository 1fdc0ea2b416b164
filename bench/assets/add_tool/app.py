"""The trivial wasm tool of bench/mcp_tools.py: add two integers."""

from cove_sdk import ToolProvider, WitWorld, tool

__all__ = ["ToolProvider", "WitWorld"]


@tool(
    "add",
    "Add two integers.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)
def add(a, b):
    return {"sum": a + b}
