"""cove-sdk: write a cove module in Python, compile it with ``cove build``.

Handlers are plain functions registered by decorator; state writes are
buffered and flushed once per event (one host call instead of many).
This package runs inside the component: it imports only the generated
``wit_world`` bindings, never wasmtime or the engine. Those bindings are
looked up lazily, so the SDK also imports in plain Python (see
``cove_sdk.testing.MockHost``).
"""

from typing import Any

from . import alarms, chain, identity, messages, ui
from ._errors import ConfigError, HostError
from ._handlers import on_block, on_event, on_init, on_log, on_message, on_tick, on_webhook
from ._hooks import Veto, hook
from ._host import Response, config, emit, fetch, log, send
from ._migrate import on_migrate
from ._state import state
from ._tools import tool
from ._typed_config import load_config

__all__ = [
    "ConfigError",
    "HookHandler",
    "HostError",
    "Migrator",
    "Response",
    "ToolProvider",
    "Veto",
    "WitWorld",
    "alarms",
    "chain",
    "config",
    "emit",
    "fetch",
    "hook",
    "identity",
    "load_config",
    "log",
    "messages",
    "on_block",
    "on_event",
    "on_init",
    "on_log",
    "on_message",
    "on_migrate",
    "on_tick",
    "on_webhook",
    "send",
    "state",
    "tool",
    "ui",
]


def __getattr__(name: str) -> Any:
    # WitWorld subclasses the generated bindings' WitWorld, which exists only
    # inside a build (or under MockHost), so it is imported on first use.
    if name == "WitWorld":
        from ._world import WitWorld

        return WitWorld
    if name == "ToolProvider":  # likewise: only a tool-module build has its bindings
        from ._tool_world import ToolProvider

        return ToolProvider
    if name == "HookHandler":  # likewise: only a hook-module build has its bindings
        from ._hook_world import HookHandler

        return HookHandler
    if name == "Migrator":  # likewise: only a migrate-module build has its bindings
        from ._migrate_world import Migrator

        return Migrator
    raise AttributeError(f"module 'cove_sdk' has no attribute {name!r}")
