"""Test plugin serving tools: a pure one and one that writes state through an action."""

from cove.plugin import Plugin, PluginContext, SetState, ToolResult, tool


class Tools(Plugin):
    @tool(
        "greet",
        "Say hello to someone.",
        {"type": "object", "properties": {"who": {"type": "string"}}, "required": ["who"]},
    )
    def greet(self, ctx: PluginContext, who: str) -> str:
        return f"hello {who}"

    @tool("bump", "Count calls in state; returns the new count.")
    def bump(self, ctx: PluginContext) -> ToolResult:
        count = int(ctx.state.get("bumps", 0)) + 1
        return ToolResult({"bumps": count}, (SetState("bumps", count),))
