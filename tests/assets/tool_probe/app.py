"""Test guest serving tools: pure, state-writing, failing after a write, emitting."""

from cove_sdk import HostError, ToolProvider, WitWorld, emit, on_event, state, tool

__all__ = ["ToolProvider", "WitWorld"]


@tool(
    "add",
    "Add two integers.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
)
def add(a, b):
    return {"sum": a + b}


@tool(
    "remember",
    "Store a note under a key; returns how many notes were stored so far.",
    {
        "type": "object",
        "properties": {"key": {"type": "string", "minLength": 1}, "note": {"type": "string"}},
        "required": ["key", "note"],
    },
)
def remember(key, note):
    state.set(f"note:{key}", note)
    count = state.incr("notes")
    emit("tool_probe.remembered", {"key": key})
    return {"notes": count}


@tool("recall", "Read a note back.", {"type": "object", "properties": {"key": {"type": "string"}}})
def recall(key=""):
    return {"note": state.get(f"note:{key}")}


@tool("write_then_fail", "Writes state, then fails: the write must not survive.")
def write_then_fail():
    state.set("note:doomed", "written by a failing tool")
    raise HostError("invalid-input", "refusing on purpose after a write")


@on_event("custom")
def count(event, meta):
    state.incr("events")
