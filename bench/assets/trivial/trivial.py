"""Bench plugin: the least a useful handler does (one state write, optional message)."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Event, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


class Trivial(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        if ctx.config.get("send"):
            return [SetState("last", event.id), SendMessage("timing", "bench", event.id)]
        return [SetState("last", event.id)]
