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


def _kind(error):
    return None if error is None else error.kind.name.lower().replace("_", "-")


def _text_errors(size):
    """cove:host@0.3's text calls: what each returns, errors beside values (none raised)."""
    raw_store.set("binary", b"\xff")
    raw_store.set_text("text", "caf\u00e9")
    seen = {
        "missing": list(raw_store.get_text("absent")),
        "round trip": list(raw_store.get_text("text")),
        "not utf-8": _kind(raw_store.get_text("binary")[1]),
        "long key": _kind(raw_store.get_text("k" * 2000)[1]),
        "long key set": _kind(raw_store.set_text("k" * 2000, "v")),
        "over quota": _kind(raw_store.set_text("big", "x" * size)),
    }
    raw_store.delete("binary")
    return seen


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
    elif op == "text-errors":
        state.set("text-errors", _text_errors(request.get("size", 8)))
