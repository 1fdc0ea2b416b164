"""Reacts to every event kind with a different effect, for `cove run --mock` tests."""

from __future__ import annotations

import json
from collections.abc import Iterable

from cove import Block, Custom, Event, Log, Message, Plugin, PluginContext, Tick, Webhook
from cove.plugin import Action, EmitEvent, SendMessage, SetState
from cove.plugin import Log as LogLine


class Watcher(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        p = event.payload
        if isinstance(p, Block):
            return [SetState("height", p.number)]
        if isinstance(p, Log):
            return [EmitEvent("watch.transfer", {"address": p.address, "data": p.data.hex()})]
        if isinstance(p, Tick):
            response = ctx.fetch("GET", "https://api.example.com/price")
            price = json.loads(response.body)["price"]
            return [SetState("price", price), LogLine(f"price is {price}")]
        if isinstance(p, Message):
            return [SendMessage(p.transport, p.sender, f"echo: {p.body}")]
        if isinstance(p, Webhook):
            return [SetState("hook", p.body.decode())]
        if isinstance(p, Custom) and p.name == "watch.fail":
            raise ValueError("asked to fail")
        if isinstance(p, Custom):
            return [SetState("transfers", ctx.state.get("transfers", 0) + 1)]
        return []
