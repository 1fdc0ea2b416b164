"""Native plugin API: trusted Python modules that run inside the engine process.

A plugin receives the same events as a wasm module and returns *actions*;
the engine applies them through the same capability layer, inside the
event's transaction. The context a plugin sees is read-only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ._capabilities._calls import HostCalls
from ._capabilities._http import HttpRequest, HttpResponse
from ._events import Event
from .errors import HostCallError

JSON = Any


@dataclass(frozen=True, slots=True)
class SetState:
    """Write ``value`` (JSON-encoded; ``bytes`` are stored as they are) under ``key``."""

    key: str
    value: JSON


@dataclass(frozen=True, slots=True)
class DeleteState:
    key: str


@dataclass(frozen=True, slots=True)
class SendMessage:
    transport: str
    recipient: str
    body: str
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EmitEvent:
    name: str
    payload: JSON = None


@dataclass(frozen=True, slots=True)
class Log:
    message: str
    level: str = "info"
    fields: Mapping[str, str] = field(default_factory=dict)


Action = SetState | DeleteState | SendMessage | EmitEvent | Log


@dataclass(frozen=True, slots=True)
class Veto:
    """Returned by ``Plugin.on_hook`` at a modifying point: the action must not happen."""

    reason: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool method may return instead of a bare value: the value plus actions.

    The actions are applied in the tool call's own transaction, like an
    event's: they commit only if the call succeeds.
    """

    value: JSON
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class PluginTool:
    """A ``@tool`` method's declaration (``Plugin.declared_tools()`` lists them)."""

    name: str
    description: str
    schema: dict[str, Any]
    method: str


_TOOL_ATTRIBUTE = "__cove_tool__"
ToolMethod = TypeVar("ToolMethod", bound=Callable[..., Any])


def tool(
    name: str, description: str, schema: dict[str, Any] | None = None
) -> Callable[[ToolMethod], ToolMethod]:
    """Mark a ``Plugin`` method as a tool: ``method(self, ctx, **arguments)``.

    ``schema`` is the JSON Schema of the arguments (checked by the engine
    before the call; default: an object with no declared properties). The
    method returns a JSON value, or ``ToolResult(value, actions)`` to change
    state or send messages; it refuses with ``HostCallError(kind, message)``
    (any other exception answers ``internal``). The manifest must say
    ``[tools] enabled = true``.
    """
    declared = schema if schema is not None else {"type": "object", "properties": {}}

    def mark(method: ToolMethod) -> ToolMethod:
        setattr(method, _TOOL_ATTRIBUTE, (name, description, declared))
        return method

    return mark


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode_value(value: JSON) -> bytes:
    if isinstance(value, bytes):
        return value
    return _ENCODER.encode(value).encode()


def decode_value(raw: bytes) -> JSON:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw


class StateView:
    """The module's state as of this event (its own earlier writes included)."""

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    def get(self, key: str, default: JSON = None) -> JSON:
        raw = self._ctx._calls.store_get_many([key])[0]
        return default if raw is None else decode_value(raw)

    def get_many(self, keys: list[str], default: JSON = None) -> list[JSON]:
        """The values of ``keys`` in one host call (``default`` where absent)."""
        raws = self._ctx._calls.store_get_many(keys)
        return [default if raw is None else decode_value(raw) for raw in raws]

    def keys(self, prefix: str = "") -> list[str]:
        return self._ctx._calls.store_list_keys(prefix)


class IdentityView:
    """The module's Ethereum account (the ``identity`` capability); the key stays in the engine.

    Each call must be in the manifest's ``[capabilities.identity] methods``,
    else ``HostCallError`` kind ``denied``.
    """

    def __init__(self, calls: HostCalls) -> None:
        self._calls = calls

    def address(self) -> str:
        """The account's EIP-55 checksummed address."""
        return self._calls.identity_address()

    def sign_message(self, message: bytes | str) -> str:
        """EIP-191 ``personal_sign`` (a str is UTF-8 encoded); 0x signature hex."""
        data = message.encode() if isinstance(message, str) else message
        return self._calls.identity_sign_message(data)

    def sign_typed_data(self, typed_data: Mapping[str, Any]) -> str:
        """EIP-712 over the full message (``types``, ``primaryType``, ``domain``, ``message``)."""
        return self._calls.identity_sign_typed_data(json.dumps(typed_data))

    def send_transaction(self, chain_id: int, tx: Mapping[str, Any]) -> str:
        """Sign and broadcast now (not rolled back with the event); the transaction hash."""
        return self._calls.identity_send_transaction(chain_id, json.dumps(tx))


class PluginContext:
    """What a plugin may look at while it handles one event."""

    def __init__(self, module: str, config: Mapping[str, Any], calls: HostCalls) -> None:
        self.module = module
        self.config = config
        self._calls = calls

    # Made on first use: a context is built per event, and most handlers use neither.
    @functools.cached_property
    def state(self) -> StateView:
        """The module's state as of this event."""
        return StateView(self)

    @functools.cached_property
    def identity(self) -> IdentityView:
        """The module's Ethereum account (the ``identity`` capability)."""
        return IdentityView(self._calls)

    def fetch(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> HttpResponse:
        """Outbound HTTP through the module's ``http`` grant and allowlist."""
        return self._calls.http_fetch(HttpRequest(method, url, tuple(headers), body))

    def schedule_alarm(self, delay_ms: int, payload: Any = None) -> str:
        """An alarm ``delay_ms`` from now (the ``alarms`` capability): delivered once, as a
        ``cove.alarm`` custom event to this module, if the event commits; its id. The
        event's payload is ``{"id": ..., "payload": <payload as JSON text>}``."""
        return self._calls.alarm_schedule(delay_ms, json.dumps(payload))

    def rpc(self, chain_id: int, method: str, params: list[Any] | None = None) -> Any:
        """One JSON-RPC call through the module's ``chain`` grant; the decoded ``result``."""
        return json.loads(self._calls.chain_request(chain_id, method, json.dumps(params or [])))

    def rpc_batch(
        self, chain_id: int, calls: Iterable[tuple[str, list[Any]]]
    ) -> list[Any | HostCallError]:
        """One JSON-RPC batch on the wire; each call's decoded result or its own error."""
        raw = self._calls.chain_request_batch(
            chain_id, [(method, json.dumps(params)) for method, params in calls]
        )
        return [r if isinstance(r, HostCallError) else json.loads(r) for r in raw]


class Plugin:
    """Base class for native plugins.

    ``name``/``version`` default to the manifest's; if set, they must agree.
    ``subscriptions`` (dicts shaped like ``[[subscription]]``) are used only
    when the manifest declares none.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = ""
    subscriptions: ClassVar[list[dict[str, Any]]] = []

    def init(self, ctx: PluginContext) -> None:
        """Called once after loading; raise to refuse the module."""

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action] | None:
        """React to one event by returning actions; raise to fail (and roll back) the event."""
        return None

    def shutdown(self) -> None:
        """Called once when the module is stopped or unloaded."""

    def migrate(self, from_version: str, ctx: PluginContext) -> Iterable[Action] | None:
        """Rewrite the state a version ``from_version`` left (needs ``[migrate] enabled``).

        Called before this version handles any event when the manifest's version
        differs from the one recorded with the state; the returned state actions
        commit as one transaction, and raising rolls them all back (see
        docs/lifecycle.md)."""
        return None

    @classmethod
    def declared_tools(cls) -> list[PluginTool]:
        """The class's ``@tool`` methods, in name order."""
        found = []
        for attribute in dir(cls):
            marked = getattr(getattr(cls, attribute, None), _TOOL_ATTRIBUTE, None)
            if marked is not None:
                name, description, schema = marked
                found.append(PluginTool(name, description, schema, attribute))
        return sorted(found, key=lambda t: t.name)

    def on_hook(self, point: str, payload: JSON) -> JSON | Veto | None:
        """Called at each ``[[hook]]`` point of the manifest (see docs/hooks.md).

        Return None to pass the payload on unchanged, a new payload to replace
        it, or ``Veto(reason)``; only ``before-message`` and
        ``after-tool-result`` use the answer. Runs on a hook thread, possibly
        while ``handle_event`` runs on another: share state with care.
        """
        return None
