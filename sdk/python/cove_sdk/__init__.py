"""cove-sdk: write a cove module in Python, compile it with ``cove build``.

Handlers are plain functions registered by decorator; state writes are
buffered and flushed once per event (one host call instead of many).
This package runs inside the component: it imports only the generated
``wit_world`` bindings, never wasmtime or the engine.
"""

from ._handlers import on_block, on_event, on_init, on_log, on_message, on_tick, on_webhook
from ._host import HostError, config, emit, fetch, log, send
from ._state import state
from ._world import WitWorld

__all__ = [
    "HostError",
    "WitWorld",
    "config",
    "emit",
    "fetch",
    "log",
    "on_block",
    "on_event",
    "on_init",
    "on_log",
    "on_message",
    "on_tick",
    "on_webhook",
    "send",
    "state",
]
