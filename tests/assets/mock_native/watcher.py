"""Reacts to every event kind with a different effect, for `cove run --mock` tests."""

from __future__ import annotations

import json
from collections.abc import Iterable

from cove import Block, Custom, Event, Log, Message, Plugin, PluginContext, Tick, Webhook
from cove.errors import HostCallError
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
        if isinstance(p, Custom) and p.name == "watch.poll":
            return [SetState("polls", [*ctx.state.get("polls", []), self._poll(ctx)])]
        if isinstance(p, Custom) and p.name == "watch.send":
            return [SendMessage(json.loads(p.payload), "ops", "hello")]
        if isinstance(p, Custom):
            return [SetState("transfers", ctx.state.get("transfers", 0) + 1)]
        return []

    def _poll(self, ctx: PluginContext) -> str:
        """The status of one price request, or the kind of host error it ended in."""
        try:
            return str(ctx.fetch("GET", "https://api.example.com/price").status)
        except HostCallError as exc:
            return exc.kind
