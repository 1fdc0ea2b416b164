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
    return host_error(err.value)


def host_error(value: Any) -> HostError:
    """A bindings ``host-error`` record as ``HostError``."""
    return HostError(value.kind.name.lower().replace("_", "-"), value.message)


def store() -> Any:
    """The ``store`` bindings; ``HostError`` (unsupported) when not imported."""
    module = bindings.interface("store")
    if module is None:
        raise missing("store")
    return module


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
    """Write to the module's log; nothing happens when the module has no ``logging``.

    Args:
        message: the text (the host clips very long lines).
        level: ``trace``, ``debug``, ``info``, ``warn`` or ``error``.
        **fields: extra key/value pairs, each value sent as ``str(value)``.
    """
    module = bindings.interface("logging")
    if module is None:
        return
    module.log(
        module.Level(_LEVELS.index(level)), message, [(k, str(v)) for k, v in fields.items()]
    )


class _Config:
    """The module's ``[config]`` table, read-only (``config[key]`` raises ``KeyError``)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (a str, int, float, bool or a list of those), or ``default``."""
        module = bindings.interface("config")
        value = None if module is None else module.get(key)
        if value is None:
            return default
        if isinstance(value.value, list):  # list-of: unwrap each config-scalar
            return [item.value for item in value.value]
        return value.value

    def keys(self) -> list[str]:
        """The keys of ``[config]``, sorted."""
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
    """Emit a custom event, journaled only after this event commits (dropped if it fails).

    Args:
        name: the event name, one the manifest's ``[capabilities.events] emit``
            patterns allow (``<module>.*`` by default).
        payload: any JSON-encodable value.

    Raises:
        HostError: ``denied`` for a name outside the patterns,
            ``limit-exceeded`` past ``[resources] emits`` or ``emit_rate``.
    """
    call("events", "emit", name, json.dumps(payload))


def send(transport: str, recipient: str, body: str, **metadata: str) -> None:
    """Send a message through a named transport, delivered after this event commits.

    Delivery is at least once, with an idempotency key per (module, event,
    action index); a failed event sends nothing.

    Args:
        transport: the engine's transport name (``console``, a webhook
            transport from the engine config, ...); must be in
            ``[capabilities.messaging] transports`` when that list is set.
        recipient: who the transport delivers to (its own address format).
        body: the message text.
        **metadata: extra string fields the transport passes along.

    Raises:
        HostError: ``denied`` for a transport outside the grant,
            ``limit-exceeded`` past ``[resources] sends``.
    """
    call("messaging", "send", transport, recipient, body, list(metadata.items()))


class Response:
    """An HTTP response, whatever its status.

    Attributes:
        status: the status code (a redirect is followed by the host, so this
            is the final response's).
        headers: ``{name: value}`` with lower-case names (the last value of a
            repeated header).
        body: the raw body (at most ``[http] max_response_bytes``).
    """

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = bytes(body)

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not)."""
        return json.loads(self.body)


def fetch(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    json_body: Any = None,
) -> Response:
    """An HTTP request through the host, to a host in ``[capabilities.http] allow``.

    A non-2xx status is a normal response: check ``response.ok``. Redirects
    are followed by the host, each hop checked against the allowlist.

    Args:
        url: an ``http://`` or ``https://`` URL.
        method: the request method.
        headers: request headers.
        body: the raw request body.
        json_body: a JSON-encodable value sent as the body, with
            ``content-type: application/json`` unless ``headers`` sets one
            (replaces ``body``).

    Returns:
        The ``Response``: ``status``, ``headers``, ``body``, ``ok``, ``text``, ``json()``.

    Raises:
        HostError: ``unsupported`` without the ``http`` capability;
            ``denied`` for a host outside the allowlist; ``timeout`` past
            ``[http] timeout`` or the module's deadline; ``unavailable`` when
            the connection fails; ``limit-exceeded`` for a body past
            ``[http] max_response_bytes`` or too many redirects;
            ``invalid-input`` for a malformed URL.
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
