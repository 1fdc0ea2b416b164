"""Native plugin for drain tests: holds each event while a gate file exists, counts each event."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from cove import Event, Plugin, PluginContext
from cove.plugin import Action, SetState


class Gated(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        with Path(ctx.config["entered_file"]).open("a") as entered:
            entered.write(event.id + "\n")  # lets the test see which event is in hand
        gate = Path(ctx.config["gate_file"])
        give_up = time.monotonic() + 30
        while gate.exists() and time.monotonic() < give_up:
            time.sleep(0.005)
        seen = f"seen:{event.id}"
        return [
            SetState(seen, ctx.state.get(seen, 0) + 1),
            SetState("count", ctx.state.get("count", 0) + 1),
        ]
