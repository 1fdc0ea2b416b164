"""Events for this module, later (``cove:host/alarms``): durable, each delivered once.

Declare the ``alarms`` capability and subscribe to the event alarms arrive as::

    [capabilities]
    required = ["alarms"]

    [[subscription]]
    kind = "custom"
    name = "cove.alarm"

then::

    from cove_sdk import alarms, on_event

    alarms.schedule(60_000, {"check": "balance"})  # in a minute, even across a restart

    @on_event("custom")
    def handle(event, meta):
        if event.name == "cove.alarm":
            fired = alarms.fired(event)  # {"id": ..., "payload": {"check": "balance"}}

An alarm set in an event that fails is never set. Over the module's
``[resources] alarms`` pending ones, ``schedule`` raises ``HostError`` kind
``limit-exceeded``.
"""

import json
from typing import Any

from ._host import call

EVENT = "cove.alarm"
"""The custom event name an alarm is delivered as."""


def schedule(delay_ms: int, payload: Any = None) -> str:
    """An alarm ``delay_ms`` from now carrying ``payload`` (any JSON value); its id."""
    result: str = call("alarms", "schedule", int(delay_ms), json.dumps(payload))
    return result


def fired(event: Any) -> dict[str, Any]:
    """The alarm a ``cove.alarm`` event delivers: ``{"id": str, "payload": <JSON value>}``."""
    body = json.loads(event.payload)
    return {"id": body["id"], "payload": json.loads(body["payload"])}
