"""Test plugin for tracing: a webhook becomes a state write and a message on ``out``;
its ``bump`` tool counts calls in state."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Event, Plugin, PluginContext, Webhook
from cove.plugin import Action, SendMessage, SetState, ToolResult, tool


class Traced(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        p = event.payload
        if not isinstance(p, Webhook):
            return []
        return [SetState("last", p.body.decode()), SendMessage("out", "ops", p.body.decode())]

    @tool("bump", "Count calls in state; returns the new count.")
    def bump(self, ctx: PluginContext) -> ToolResult:
        count = int(ctx.state.get("bumps", 0)) + 1
        return ToolResult({"bumps": count}, (SetState("bumps", count),))
