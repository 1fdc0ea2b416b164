"""Test guest: the attacks of a hostile module author, one op each (tests/security).

One component covers every attack so the suite compiles it once; the event's
payload names the attack.
"""

import json
import time

from componentize_py_types import Err
from cove_sdk import HostError, WitWorld, config, emit, fetch, log, on_event, send, state
from cove_sdk._host import unwrap
from wit_world.imports import events as raw_events
from wit_world.imports import store as raw_store

__all__ = ["WitWorld"]


def _raw(call, *args):
    """A host call past the SDK's buffering, its error raised as the SDK would."""
    try:
        return call(*args)
    except Err as err:
        raise unwrap(err) from None


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload or "{}")
    op = request.get("op")
    size = request.get("size", 0)
    if op == "count":
        state.incr("count")
    elif op == "sleep":
        time.sleep(request.get("seconds", 10**6))
    elif op == "raise-big":
        raise ValueError("x" * size)
    elif op == "raise":
        raise ValueError(request["text"])
    elif op == "big-key":
        _raw(raw_store.set, "k" * size, b"v")
    elif op == "big-value":
        _raw(raw_store.set, "key", b"v" * size)
    elif op == "big-url":
        try:
            fetch("http://" + "a" * size + ".example/")
        except HostError as exc:
            state.set("error", {"kind": exc.kind, "length": len(exc.message)})
    elif op == "fetch":  # the URL from the event, else from the module's [config] url
        try:
            response = fetch(request.get("url") or config.get("url"))
            state.set("http", {"status": response.status})
        except HostError as exc:
            state.set("error", {"kind": exc.kind, "message": exc.message})
    elif op == "big-log":
        log("x" * size, level="warn")
    elif op == "log":
        log(request["text"], level="info")
    elif op == "print":
        print(request["text"])
    elif op == "print-flood":
        for n in range(request.get("lines", 100_000)):
            print("flood line", n)
    elif op == "surrogate":
        print("\ud800")
    elif op == "emit":
        emit(request["name"], request.get("payload"))
    elif op == "emit-many":
        for _ in range(request.get("n", 1_000)):
            emit(request["name"], {**request, "op": "emit-many"})
    elif op == "emit-raw":
        _raw(raw_events.emit, request["name"], request["payload"])
    elif op == "send-many":
        for n in range(request.get("n", 1_000)):
            send("console", "someone", f"message {n}")
    elif op == "big-emit":
        emit(request["name"], {"blob": "x" * size})
