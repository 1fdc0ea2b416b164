"""Test plugin: an agent that DMs on request and records (and optionally answers) its DMs.

A ``probe.op`` event ``{"op": "dm", "from": <me>, "to": <npub|note>, "body": ...}``
makes the module named ``from`` send; every message it gets goes under
``inbox``; with ``reply = true`` it answers the sender with ``re: <body>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cove import Custom, Event, Message, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


class Agent(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        p = event.payload
        if isinstance(p, Custom) and p.name == "probe.op":
            op = json.loads(p.payload)
            if op.get("op") != "dm" or op.get("from") != ctx.config["me"]:
                return []
            return [SendMessage(ctx.config["transport"], op["to"], op["body"])]
        if not isinstance(p, Message):
            return []
        item = {"sender": p.sender, "recipient": p.recipient, "body": p.body, "id": event.id}
        actions: list[Action] = [SetState("inbox", [*ctx.state.get("inbox", []), item])]
        if ctx.config.get("reply"):
            actions.append(SendMessage(p.transport, p.sender, "re: " + p.body))
        return actions
