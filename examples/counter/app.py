"""Counter/threshold module: the Python-guest example component."""

import json

from cove_sdk import WitWorld, config, emit, log, on_event, send, state

__all__ = ["WitWorld"]


@on_event("custom")
def on_reading(event, meta):
    reading = json.loads(event.payload or "null") or {}
    count = state.incr("count")
    total = state.get("sum", 0) + float(reading.get("value", 0))
    state.set("sum", total)
    threshold = config.get("threshold", 10)
    if count % threshold == 0:
        summary = {"count": count, "sum": total, "event": meta.id}
        emit("counter.threshold", summary)
        send(
            config.get("alert_transport", "console"),
            config.get("alert_recipient", "ops"),
            f"counter reached {count} readings (sum {total:g})",
        )
        log("threshold reached", level="info", count=count)
