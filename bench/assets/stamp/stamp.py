"""Bench plugin: counts each event in state and sends its payload (the publish time) on."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Event, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


class Stamp(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        payload = getattr(event.payload, "payload", "")
        return [
            SetState("count", ctx.state.get("count", 0) + 1),
            SendMessage("timing", "sink", payload),
        ]
