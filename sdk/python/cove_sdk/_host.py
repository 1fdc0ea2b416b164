"""Friendly wrappers over the imported ``cove:host`` interfaces.

A module's world imports only the interfaces its manifest declares, so an
undeclared one is simply absent here and using it raises ``HostError``
with kind ``unsupported`` — the same answer the engine gives.
"""

import json
from typing import Any

from ._bindings import bindings
from ._errors import HostError


def unwrap(err: Any) -> HostError:
    """The ``HostError`` inside a bindings ``Err``."""
    value = err.value
    return HostError(value.kind.name.lower().replace("_", "-"), value.message)


def missing(interface: str) -> HostError:
    return HostError(
        "unsupported", f"this module does not import cove:host/{interface}; declare it in cove.toml"
    )


def call(interface: str, function: str, *args: Any) -> Any:
    """Call ``interface.function``; host errors come back as ``HostError``."""
    module = bindings.interface(interface)
    if module is None:
        raise missing(interface)
    try:
        return getattr(module, function)(*args)
    except bindings.err as err:
        raise unwrap(err) from None


_LEVELS = ("trace", "debug", "info", "warn", "error")


def log(message: str, level: str = "info", **fields: Any) -> None:
    """Write to the module's log (``level``: trace, debug, info, warn, error)."""
    module = bindings.interface("logging")
    if module is None:
        return
    module.log(
        module.Level(_LEVELS.index(level)), message, [(k, str(v)) for k, v in fields.items()]
    )


class _Config:
    """The module's ``[config]`` table, read-only."""

    def get(self, key: str, default: Any = None) -> Any:
        module = bindings.interface("config")
        value = None if module is None else module.get(key)
        if value is None:
            return default
        if isinstance(value.value, list):  # list-of: unwrap each config-scalar
            return [item.value for item in value.value]
        return value.value

    def keys(self) -> list[str]:
        module = bindings.interface("config")
        return [] if module is None else list(module.keys())

    def __getitem__(self, key: str) -> Any:
        marker = object()
        value = self.get(key, marker)
        if value is marker:
            raise KeyError(key)
        return value


config = _Config()


def emit(name: str, payload: Any = None) -> None:
    """Emit a custom event (delivered after this event commits)."""
    call("events", "emit", name, json.dumps(payload))


def send(transport: str, recipient: str, body: str, **metadata: str) -> None:
    """Send a message through a named transport (after this event commits)."""
    call("messaging", "send", transport, recipient, body, list(metadata.items()))


class Response:
    """An HTTP response: ``status``, ``headers`` (lower-case names), ``body``."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = bytes(body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    json_body: Any = None,
) -> Response:
    """HTTP request through the host (only to hosts in the module's allowlist).

    A non-2xx status is a normal response; check ``response.ok``.
    """
    module = bindings.interface("http")
    if module is None:
        raise missing("http")
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("content-type", "application/json")
    raw = call("http", "fetch", module.Request(method, url, list(headers.items()), body))
    return Response(raw.status, raw.headers, raw.body)
