"""Native plugin for reload tests: records which version handled each event (a test rewrites TAG)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cove import Event, Lifecycle, Plugin, PluginContext
from cove.plugin import Action, SetState

TAG = "v1"


class Versioned(Plugin):
    def init(self, ctx: PluginContext) -> None:
        if Path(ctx.config["init_file"]).read_text().strip() == "fail":
            raise RuntimeError(f"init of {TAG} fails")

    def shutdown(self) -> None:
        if TAG == "v1-shutdown-fails":
            raise RuntimeError("shutdown of v1 fails")

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        if isinstance(event.payload, Lifecycle):
            return [SetState(f"lifecycle:{event.payload.phase}:{TAG}", event.payload.detail)]
        seen = f"seen:{event.id}"
        return [SetState(seen, ctx.state.get(seen, 0) + 1), SetState(f"by:{event.id}", TAG)]
