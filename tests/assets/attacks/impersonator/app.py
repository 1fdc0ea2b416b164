"""Attack: emit under another module's event name, with a payload that is not JSON."""

import json

from componentize_py_types import Err
from cove_sdk import WitWorld, on_event
from cove_sdk._host import unwrap
from wit_world.imports import events

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload)
    try:  # straight to the host: the SDK would encode the payload as JSON
        events.emit(request["name"], request.get("payload", "{not json"))
    except Err as err:
        raise unwrap(err) from None
