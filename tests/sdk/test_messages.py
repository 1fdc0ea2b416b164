"""cove_sdk.messages: a ``cove.message-sent`` confirmation read from its event."""

from __future__ import annotations

import json
from types import SimpleNamespace

from cove_sdk import messages


def test_a_confirmation_is_read_from_its_event_and_other_events_are_not() -> None:
    body = {
        "transport": "iot",
        "recipient": "replies/x",
        "key": "bot:e-1:0",
        "event_id": "e-1",
        "index": 0,
    }
    event = SimpleNamespace(name="cove.message-sent", source="bot", payload=json.dumps(body))
    assert messages.Sent("iot", "replies/x", "bot:e-1:0", "e-1", 0) == messages.sent(event)
    assert None is messages.sent(SimpleNamespace(name="sensor.reading", payload="{}"))
    assert "cove.message-sent" == messages.MESSAGE_SENT
