"""Confirmations of a module's sends: ``cove.message-sent`` (docs/sources.md).

Once the engine has delivered one of a module's messages (a webhook answered
2xx, an MQTT broker answered PUBACK) it hands the module a custom event named
``cove.message-sent``, if the module subscribes to it::

    [[subscription]]
    kind = "custom"
    name = "cove.message-sent"

Only the sending module receives it. Read it with ``sent(event)``::

    from cove_sdk import messages, on_event

    @on_event("custom")
    def on_custom(event, meta):
        done = messages.sent(event)
        if done is not None:
            ...  # done.recipient got the message sent while handling done.event_id
"""

import json
from dataclasses import dataclass
from typing import Any

MESSAGE_SENT = "cove.message-sent"


@dataclass(frozen=True)
class Sent:
    """A delivered message: where it went, its idempotency key, and which send of which event."""

    transport: str
    recipient: str
    key: str
    event_id: str
    index: int


def sent(event: Any) -> Sent | None:
    """The confirmation a custom event carries, or None when it is another event."""
    if getattr(event, "name", "") != MESSAGE_SENT:
        return None
    body = json.loads(getattr(event, "payload", "") or "{}")
    return Sent(
        str(body["transport"]),
        str(body["recipient"]),
        str(body["key"]),
        str(body["event_id"]),
        int(body.get("index", 0)),
    )
