"""Friendly wrappers over the imported ``cove:host`` interfaces.

A module's world imports only the interfaces its manifest declares, so an
undeclared one is simply absent here and using it raises ``HostError``
with kind ``unsupported`` — the same answer the engine gives.
"""

import json
from typing import Any

from componentize_py_types import Err
from wit_world.imports import types

try:
    from wit_world.imports import logging as _logging
except ImportError:
    _logging = None
try:
    from wit_world.imports import config as _config
except ImportError:
    _config = None
try:
    from wit_world.imports import events as _events
except ImportError:
    _events = None
try:
    from wit_world.imports import messaging as _messaging
except ImportError:
    _messaging = None
try:
    from wit_world.imports import http as _http
except ImportError:
    _http = None


class HostError(Exception):
    """A host call failed; ``kind`` is one of the WIT ``error-kind`` names."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def unwrap(err: Err) -> HostError:
    value = err.value
    return HostError(value.kind.name.lower().replace("_", "-"), value.message)


def missing(interface: str) -> HostError:
    return HostError(
        "unsupported", f"this module does not import cove:host/{interface}; declare it in cove.toml"
    )


_LEVELS = ("trace", "debug", "info", "warn", "error")


def log(message: str, level: str = "info", **fields: Any) -> None:
    if _logging is None:
        return
    _logging.log(
        _logging.Level(_LEVELS.index(level)), message, [(k, str(v)) for k, v in fields.items()]
    )


class _Config:
    """The module's ``[config]`` table, read-only."""

    def get(self, key: str, default: Any = None) -> Any:
        if _config is None:
            return default
        value = _config.get(key)
        if value is None:
            return default
        if isinstance(value, types.ConfigValue_ListOf):
            return [item.value for item in value.value]
        return value.value

    def keys(self) -> list[str]:
        return [] if _config is None else list(_config.keys())

    def __getitem__(self, key: str) -> Any:
        marker = object()
        value = self.get(key, marker)
        if value is marker:
            raise KeyError(key)
        return value


config = _Config()


def emit(name: str, payload: Any = None) -> None:
    """Emit a custom event (delivered after this event commits)."""
    if _events is None:
        raise missing("events")
    try:
        _events.emit(name, json.dumps(payload))
    except Err as err:
        raise unwrap(err) from None


def send(transport: str, recipient: str, body: str, **metadata: str) -> None:
    """Send a message through a named transport (after this event commits)."""
    if _messaging is None:
        raise missing("messaging")
    try:
        _messaging.send(transport, recipient, body, list(metadata.items()))
    except Err as err:
        raise unwrap(err) from None


def fetch(url: str, method: str = "GET", headers: dict | None = None, body: bytes = b"") -> Any:
    """HTTP request through the host; returns the WIT response (status, headers, body)."""
    if _http is None:
        raise missing("http")
    request = _http.Request(method, url, list((headers or {}).items()), body)
    try:
        return _http.fetch(request)
    except Err as err:
        raise unwrap(err) from None
