"""The ``cove:host`` contract as fixed shapes, and every host function, declared once.

Each import is declared here once, with the ``HostCalls`` method it calls
and its WIT shapes; ``CallPath.host_func`` binds it to the C extension or to
ctypes. The shapes mirror ``wit/host.wit`` (a test compares them with the
types of a component built from it); a component whose imports differ gets
a trap from wasmtime's own result type check or a kind check in our
readers, never a misread. The exports' shapes (tools, hooks) are checked
against the component's own types when it is instantiated.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Protocol, get_args

from .._capabilities._bounds import (
    MAX_KEY_BYTES,
    MAX_LOG_CHARS,
    MAX_NAME_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_URL_BYTES,
)
from .._capabilities._calls import HostCalls
from .._capabilities._http import HttpRequest
from .._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook, wit_fields
from ..errors import ErrorKind, HostCallError
from . import _fast_values as fv
from ._call_path import CallPath
from ._fast_call import HostFunc

S: fv.Type = ("string",)
B: fv.Type = ("bytes",)
U64: fv.Type = ("u64",)
HEADERS: fv.Type = ("list", ("tuple", [S, S]))
ERROR_KINDS = list(get_args(ErrorKind))  # the WIT enum's cases, in its order
HOST_ERROR: fv.Type = ("record", [("kind", ("enum", ERROR_KINDS)), ("message", S)])
LEVELS = ["trace", "debug", "info", "warn", "error"]

# A guest's strings cut as they are read (only the kept part becomes a str), at
# the bound ``HostCalls`` holds them to: a text is cut there anyway, and a name or
# key cut to its byte bound in characters is still over it, so still refused.
KEY: fv.Type = ("string", MAX_KEY_BYTES)
NAME: fv.Type = ("string", MAX_NAME_BYTES)
PAYLOAD: fv.Type = ("string", MAX_PAYLOAD_BYTES)
LOG_FIELDS: fv.Type = ("list", ("tuple", [NAME, ("string", MAX_LOG_CHARS)]))
REQUEST: fv.Type = (
    "record",
    [("method", ("string", 16)), ("url", ("string", MAX_URL_BYTES)), ("headers", HEADERS),
     ("body", B)],
)  # fmt: skip
_SCALAR_CASES: list[tuple[str, fv.Type]] = [
    ("boolean", ("bool",)),
    ("integer", ("s64",)),
    ("float", ("f64",)),
    ("text", S),
]
CONFIG_VALUE: fv.Type = (
    "variant",
    [*_SCALAR_CASES, ("list-of", ("list", ("variant", _SCALAR_CASES)))],
)
RESPONSE: fv.Type = ("record", [("status", ("u16",)), ("headers", HEADERS), ("body", B)])

EVENT_META: fv.Type = ("record", [("id", S), ("accepted-at-ms", U64), ("attempt", ("u32",))])
_PAYLOADS: dict[type, tuple[str, fv.Type]] = {
    Block: (
        "block",
        ("record", [("chain-id", U64), ("number", U64), ("hash", S), ("parent-hash", S),
                    ("timestamp", U64)]),
    ),
    Log: (
        "log",
        ("record", [("chain-id", U64), ("block-number", U64), ("block-hash", S),
                    ("transaction-hash", S), ("log-index", ("u32",)), ("address", S),
                    ("topics", ("list", S)), ("data", B), ("removed", ("bool",))]),
    ),
    Tick: ("tick", ("record", [("schedule", S), ("scheduled-at-ms", U64)])),
    Message: (
        "message",
        ("record", [("transport", S), ("sender", S), ("recipient", S), ("body", S),
                    ("metadata", HEADERS)]),
    ),
    Webhook: (
        "webhook",
        ("record", [("path", S), ("method", S), ("headers", HEADERS), ("body", B)]),
    ),
    Custom: ("custom", ("record", [("name", S), ("source", S), ("payload", S)])),
    Lifecycle: (
        "lifecycle",
        ("record", [("phase", ("enum", ["started", "stopping", "reloaded"])), ("detail", S)]),
    ),
}  # fmt: skip
EVENT: fv.Type = ("variant", [case for case in _PAYLOADS.values()])
HANDLE_PARAMS: list[fv.Type] = [S]
"""``handle``'s parameter since cove:host@0.3: the event as one string (``_event_text``)."""
HANDLE_PARAMS_0_2: list[fv.Type] = [B]
"""``handle``'s parameter in cove:host@0.2: the event as compact bytes (``_event_bytes``)."""
HANDLE_PARAMS_0_1 = [EVENT_META, EVENT]
"""``handle``'s parameters in cove:host@0.1, for components built against it."""
GET_TEXT: fv.Type = ("tuple", [("option", S), ("option", HOST_ERROR)])
"""``store.get-text``'s result: the value (none when missing) and the error, side by side."""

# Field values in WIT order, straight off the frozen dataclass.
_FIELDS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {}
for _cls, (_case, _ty) in _PAYLOADS.items():
    _names = list(wit_fields(_cls))
    assert [n.replace("_", "-") for n in _names] == [n for n, _ in _ty[1]], _cls
    assert len(_names) > 1  # attrgetter of one name returns the value, not a tuple
    _FIELDS[_cls] = (_case, operator.attrgetter(*_names))


Signature = tuple[list[fv.Type], "fv.Type | None"]
"""A function's parameter shapes and result shape (None: no result)."""
LIST_TOOLS: Signature = (
    [],
    ("list", ("record", [("name", S), ("description", S), ("input-schema", S)])),
)
CALL_TOOL: Signature = ([S, S], ("result", S, HOST_ERROR))
HOOK_OUTCOME: fv.Type = (
    "record",
    [("action", ("enum", ["pass", "replace", "veto"])), ("payload-json", S), ("reason", S)],
)
ON_HOOK: Signature = ([S, S], ("result", HOOK_OUTCOME, S))
"""The exports of ``tool-provider`` and ``hook-handler``."""  # fmt: skip


def handle_args(event: Event, attempt: int) -> tuple[Any, Any]:
    """(event-meta, event) as values of the ``HANDLE_PARAMS_0_1`` types."""
    payload = event.payload
    case, fields = _FIELDS[type(payload)]
    return (event.id, event.accepted_at_ms, attempt), (case, fields(payload))


def config_value(value: Any) -> Any:
    """A config value as the ``config-value`` variant (bool before int, as in the WIT)."""
    if isinstance(value, list):
        return ("list-of", [_scalar(v) for v in value])
    return _scalar(value)


def _scalar(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int):
        return ("integer", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, str):
        return ("text", value)
    raise TypeError(f"config value of type {type(value).__name__} has no WIT form")


class HostSide(Protocol):
    """What the host functions call: the running call's ``HostCalls`` and a few helpers
    (the shared linker's are those of the host whose guest is running, ``_shared_linker``)."""

    def _current(self) -> HostCalls: ...

    def _park(self, exc: BaseException) -> None: ...

    def _log(self, store: Any, level: str, message: str, fields: list[tuple[str, str]]) -> None: ...

    def _config_get(self, key: str) -> Any: ...

    def _config_keys(self) -> list[str]: ...


def host_functions(host: HostSide, path: CallPath) -> dict[str, dict[str, HostFunc]]:
    """Every ``cove:host`` import, bound to ``path``, each calling its ``HostCalls`` method."""
    current = host._current
    park = host._park

    def fallible(
        params: list[fv.Type], ok: fv.Type | None, body: str | Callable[..., Any]
    ) -> HostFunc:
        """A ``result<ok, host-error>`` function: failures become the error value.

        ``body``: the name of the ``HostCalls`` method taking the WIT's
        arguments as they are (one frame less per call), or a function of
        (calls, *args) that adapts them.
        """
        name = body if isinstance(body, str) else ""
        adapt = None if isinstance(body, str) else body

        def call(*args: Any) -> Any:
            try:
                calls = current()
                return (True, getattr(calls, name)(*args) if adapt is None else adapt(calls, *args))
            except HostCallError as exc:
                return (False, (exc.kind, exc.message))

        return path.host_func(params, ("result", ok, HOST_ERROR), call, park, _internal)

    def get_text(key: str) -> tuple[str | None, Any]:
        try:
            value = current().store_get(key)
        except HostCallError as exc:
            return (None, None) if exc.kind == "not-found" else (None, (exc.kind, exc.message))
        try:
            return (value.decode(), None)
        except UnicodeDecodeError:
            return (None, ("invalid-input", f"store: the value of {key!r} is not UTF-8 text; "
                           "read it with store.get"))  # fmt: skip

    def set_text(key: str, value: str) -> Any:
        try:
            current().store_set(key, value.encode())
        except HostCallError as exc:
            return (exc.kind, exc.message)
        return None

    def log(level: str, message: str, fields: list[tuple[str, str]]) -> None:
        host._log(None, level, message, fields)

    def config_get(key: str) -> Any:
        value = host._config_get(key)
        return None if value is None else config_value(value)

    return {
        "store": {
            "get": fallible([KEY], B, "store_get"),
            "get-many": fallible([("list", KEY)], ("list", ("option", B)), "store_get_many"),
            "set": fallible([KEY, B], None, "store_set"),
            "set-many": fallible([("list", ("tuple", [KEY, B]))], None, "store_set_many"),
            "delete": fallible([KEY], None, "store_delete"),
            "list-keys": fallible([KEY], ("list", S), "store_list_keys"),
            # 0.3: the error beside the value, not a result (one lift less per call).
            "get-text": path.host_func([KEY], GET_TEXT, get_text, park, _internal_beside),
            "set-text": path.host_func(
                [KEY, S], ("option", HOST_ERROR), set_text, park, _internal_alone
            ),
        },
        "http": {"fetch": fallible([REQUEST], RESPONSE, _http_fetch)},
        "messaging": {
            "send": fallible(
                [NAME, NAME, PAYLOAD, HEADERS],
                None,
                lambda c, transport, recipient, body, metadata: c.messaging_send(
                    transport, recipient, body, tuple(metadata)
                ),
            )
        },
        "events": {"emit": fallible([NAME, PAYLOAD], None, "events_emit")},
        "chain": {
            "request": fallible([U64, S, S], S, "chain_request"),
            "request-batch": fallible(
                [U64, ("list", ("record", [("method", S), ("params-json", S)]))],
                ("list", ("result", S, HOST_ERROR)),
                _chain_request_batch,
            ),
        },
        "identity": {
            "address": fallible([], S, lambda c: c.identity_address()),
            "sign-message": fallible([B], S, lambda c, message: c.identity_sign_message(message)),
            "sign-typed-data": fallible([S], S, lambda c, data: c.identity_sign_typed_data(data)),
            "send-transaction": fallible(
                [U64, S], S, lambda c, chain, tx: c.identity_send_transaction(chain, tx)
            ),
        },
        "alarms": {"schedule": fallible([U64, S], S, "alarm_schedule")},
        # No host-error in these signatures: a failure other than a refusal
        # traps the call (the event fails, the engine goes on).
        "logging": {
            "log": path.host_func(
                [("enum", LEVELS), ("string", MAX_LOG_CHARS), LOG_FIELDS], None, log, park, _trap
            )
        },
        "config": {
            "get": path.host_func([S], ("option", CONFIG_VALUE), config_get, park, _trap),
            "keys": path.host_func([], ("list", S), host._config_keys, park, _trap),
        },
    }


def _internal(exc: Exception) -> Any:
    return (False, ("internal", f"{type(exc).__name__}: {exc}"))


def _internal_beside(exc: Exception) -> Any:
    return (None, ("internal", f"{type(exc).__name__}: {exc}"))


def _internal_alone(exc: Exception) -> Any:
    return ("internal", f"{type(exc).__name__}: {exc}")


def _trap(exc: Exception) -> None:
    raise exc


def _chain_request_batch(
    calls: HostCalls, chain_id: int, batch: list[tuple[str, str]]
) -> list[tuple[bool, Any]]:
    results = calls.chain_request_batch(chain_id, batch)
    return [
        (False, (r.kind, r.message)) if isinstance(r, HostCallError) else (True, r) for r in results
    ]


def _http_fetch(calls: HostCalls, request: tuple[str, str, list[Any], bytes]) -> Any:
    method, url, headers, body = request
    response = calls.http_fetch(HttpRequest(method, url, tuple(headers), body))
    return (response.status, list(response.headers), response.body)
