"""Test plugin: records every tick, message and webhook it handles in its state.

With ``echo = true`` in its config it also answers each message on the
transport it came from, so tests can watch outbound delivery; the
``cove.message-sent`` confirmations of its sends go under ``sent``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cove import Custom, Event, Message, Plugin, PluginContext, Tick, Webhook
from cove.plugin import Action, SendMessage, SetState


class Recorder(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        p = event.payload
        actions: list[Action] = []
        if isinstance(p, Tick):
            key, item = "ticks", [p.schedule, p.scheduled_at_ms]
        elif isinstance(p, Message):
            key = "messages"
            item = {"sender": p.sender, "recipient": p.recipient, "body": p.body}
            item["metadata"] = [list(m) for m in p.metadata]
            if ctx.config.get("echo"):
                actions.append(SendMessage(p.transport, p.sender, "echo: " + p.body))
        elif isinstance(p, Webhook):
            key = "webhooks"
            item = {"path": p.path, "body": p.body.decode(), "headers": dict(p.headers)}
        elif isinstance(p, Custom) and p.name == "cove.message-sent":
            key, item = "sent", json.loads(p.payload)
        else:
            return []
        return [SetState(key, [*ctx.state.get(key, []), item]), *actions]
