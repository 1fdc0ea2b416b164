"""Soak native plugin: counts webhooks (one message each), ticks and blocks; crashes on
the first attempt of every 97th webhook, so the runner's backoff and retry run all along."""

from __future__ import annotations

import json
from collections.abc import Iterable

from cove import Block, Event, Plugin, PluginContext, Tick, Webhook
from cove.plugin import Action, SendMessage, SetState

CRASH_EVERY = 97


class Soak(Plugin):
    def __init__(self) -> None:
        self.crashed: set[str] = set()  # plugin memory survives the rollback

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        payload = event.payload
        if isinstance(payload, Webhook):
            n = json.loads(payload.body)["n"]
            if n % CRASH_EVERY == 0 and event.id not in self.crashed:
                self.crashed.add(event.id)
                raise RuntimeError(f"soak: planned crash on webhook {n}")
            self.crashed.discard(event.id)
            return [
                SetState("webhooks", ctx.state.get("webhooks", 0) + 1),
                SendMessage("sink", "soak", str(n)),
            ]
        if isinstance(payload, Tick):
            return [SetState("ticks", ctx.state.get("ticks", 0) + 1)]
        if isinstance(payload, Block):
            last = ctx.state.get("last_block", 0)
            actions: list[Action] = [
                SetState("blocks", ctx.state.get("blocks", 0) + 1),
                SetState("last_block", max(last, payload.number)),
            ]
            if payload.number <= last:
                actions.append(SetState("block_repeats", ctx.state.get("block_repeats", 0) + 1))
            return actions
        return []
