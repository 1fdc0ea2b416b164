"""Native plugin for supervision tests: fails on purpose, in configurable ways."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cove import Event, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


class Flaky(Plugin):
    def __init__(self) -> None:
        self.failed_once: set[str] = set()

    def init(self, ctx: PluginContext) -> None:
        if (
            "mode_file" in ctx.config
            and Path(ctx.config["mode_file"]).read_text().strip() == "init"
        ):
            raise RuntimeError("init fails")

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        mode = ctx.config.get("mode", "ok")
        if "mode_file" in ctx.config:  # lets a test flip the behaviour from outside
            mode = Path(ctx.config["mode_file"]).read_text().strip()
        count = ctx.state.get("count", 0) + 1
        if mode == "always":
            raise RuntimeError("this module fails every event")
        if mode == "poison" and getattr(event.payload, "payload", "") == "poison":
            raise RuntimeError("this event poisons the module")
        if mode == "once" and event.id not in self.failed_once:
            self.failed_once.add(event.id)  # plugin memory survives the rollback
            raise RuntimeError("first attempt fails")
        if mode == "partial":
            # The last action breaks the quota after earlier ones were applied.
            return [
                SetState("count", count),
                SendMessage("chat", "bob", "should never leave"),
                SetState("big", "x" * 10_000),
            ]
        if mode == "newline-key":  # a key the control plane must still be able to read
            return [SetState("count", count), SetState("a\nb", "v")]
        return [SetState("count", count)]
