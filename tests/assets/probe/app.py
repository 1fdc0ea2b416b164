"""Test guest: does whatever the event's payload asks, including hostile things.

One component covers many behaviours so the suite compiles it once.
"""

import json
import sys

from componentize_py_types import Err
from cove_sdk import HostError, WitWorld, config, emit, fetch, log, on_event, send, state
from cove_sdk._host import unwrap
from wit_world.imports import store as raw_store

__all__ = ["WitWorld"]


def _recurse(n):
    return _recurse(n + 1) + 1


@on_event("custom")
def handle(event, meta):
    request = json.loads(event.payload or "{}")
    op = request.get("op")
    if meta.attempt > request.get("attempts", meta.attempt):
        op = "count"  # misbehave on the first `attempts` deliveries only, then count
    if op == "count":
        state.incr("count")
    elif op == "set":
        state.set(request["key"], request["value"])
    elif op == "loop":
        while True:
            pass
    elif op == "alloc":
        hoard = []
        while True:
            hoard.append(bytearray(1 << 20))
    elif op == "recurse":
        sys.setrecursionlimit(10_000_000)
        _recurse(0)
    elif op == "flood":
        for _ in range(request.get("n", 1_000_000)):
            config.get("anything")
    elif op == "quota":
        try:  # straight to the host, past the SDK's write buffer
            raw_store.set(request.get("key", "big"), b"x" * request["size"])
        except Err as err:
            raise unwrap(err) from None
    elif op == "http":
        try:
            response = fetch(request["url"])
            state.set("http", {"status": response.status, "body": bytes(response.body).decode()})
        except HostError as exc:
            state.set("http", {"error": exc.kind, "message": exc.message})
    elif op == "send":
        send(request["transport"], request["to"], request["body"])
    elif op == "emit":
        emit(request["name"], request.get("payload"))
    elif op == "print":
        print(request.get("text", "hello from the guest"))
        print("to stderr", file=sys.stderr)
    elif op == "fail":
        raise RuntimeError(request.get("why", "asked to fail"))
    elif op == "config":
        state.set("config", {k: config.get(k) for k in config.keys()})
    elif op == "log":
        log(request.get("text", "probe log"), level="warn", seen=meta.id)
    elif op == "attempt":
        state.set("attempt", meta.attempt)
