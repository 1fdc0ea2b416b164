"""Attack: hand the host a huge state key, http URL or log line."""

import json

from componentize_py_types import Err
from cove_sdk import WitWorld, fetch, log, on_event
from cove_sdk._host import unwrap
from wit_world.imports import store

__all__ = ["WitWorld"]


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload)
    size = request.get("size", 50_000_000)
    what = request["what"]
    if what == "key":
        try:  # straight to the host, past the SDK's write buffer
            store.set("k" * size, b"v")
        except Err as err:
            raise unwrap(err) from None
    elif what == "url":
        fetch("http://" + "a" * size + ".example/")
    elif what == "log":
        log("x" * size, level="warn")
