"""Test plugin serving tools: a pure one (refusing empty input) and one that writes state through an action."""

from cove.errors import HostCallError
from cove.plugin import Plugin, PluginContext, SetState, ToolResult, tool


class Tools(Plugin):
    @tool(
        "greet",
        "Say hello to someone.",
        {"type": "object", "properties": {"who": {"type": "string"}}, "required": ["who"]},
    )
    def greet(self, ctx: PluginContext, who: str) -> str:
        if not who:
            raise HostCallError("invalid-input", "greet whom? 'who' is empty")
        return f"hello {who}"

    @tool("bump", "Count calls in state; returns the new count.")
    def bump(self, ctx: PluginContext) -> ToolResult:
        count = int(ctx.state.get("bumps", 0)) + 1
        return ToolResult({"bumps": count}, (SetState("bumps", count),))
