"""Auto-reply: the native-plugin example."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cove import Event, Message, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


def pick_reply(rules: list[dict[str, Any]], text: str, default: str = "") -> str:
    """First rule whose `contains` occurs in the text (case-insensitive) wins."""
    lowered = text.casefold()
    for rule in rules:
        if str(rule["contains"]).casefold() in lowered:
            return str(rule["reply"])
    return default


class AutoReply(Plugin):
    def init(self, ctx: PluginContext) -> None:
        for index, rule in enumerate(ctx.config.get("rules", [])):
            if not {"contains", "reply"} <= set(rule):
                raise ValueError(f"config.rules[{index}] needs `contains` and `reply`")

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        message = event.payload
        assert isinstance(message, Message)
        reply = pick_reply(
            ctx.config.get("rules", []), message.body, ctx.config.get("default_reply", "")
        )
        if not reply:
            return []
        replied = ctx.state.get("replied", 0)
        return [
            SendMessage(message.transport, message.sender, reply),
            SetState("replied", replied + 1),
        ]
