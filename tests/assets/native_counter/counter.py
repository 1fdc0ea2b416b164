"""Native counter: one state increment and one outbound message per event."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Event, Plugin, PluginContext
from cove.plugin import Action, SendMessage, SetState


class Counter(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        count = ctx.state.get("count", 0) + 1
        fail_every = int(ctx.config.get("fail_every", 0))
        if fail_every and count % fail_every == 0 and ctx.state.get("failed-at") != count:
            # Fail once per multiple: the retry (a new attempt) succeeds.
            return [SetState("failed-at", count), SetState("boom", 1 / 0)]
        order = ctx.state.get("order", [])
        if ctx.config.get("record_order"):
            order.append(event.id)
        return [
            SetState("count", count),
            SetState("order", order),
            SendMessage(str(ctx.config.get("transport", "file")), "sink", f"{ctx.module}:{count}"),
        ]
