"""The OpenAPI 3.1 schema of the control plane, served at ``/openapi.json``.

Hand-written rather than generated from docstrings (starlette's
``SchemaGenerator`` needs YAML in every docstring); request bodies come from
the same pydantic models the routes validate with, so they cannot drift.
"""

from __future__ import annotations

from typing import Any

from ._api import MAX_LIMIT, EmitRequest, LoadRequest, ToolCallRequest
from ._outbox import DeadLetterIds
from ._ui import UiSubmitRequest

_ERROR = {"$ref": "#/components/schemas/Error"}
_JSON = "application/json"


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {_JSON: {"schema": schema or {"type": "object"}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad query parameter",
        401: "Missing or wrong bearer token",
        403: "The engine has no control token configured",
        404: "No such module, key, tool or feature",
        409: "The module is not in a state that allows this",
        413: "Request body too large",
        421: "The Host header is not a name of this listener (DNS rebinding)",
        422: "Invalid request body, or the engine refused the module",
        503: "Not ready",
    }
    return {str(c): {"description": text[c], "content": {_JSON: {"schema": _ERROR}}} for c in codes}


def _op(
    summary: str, ok: dict[str, Any], *codes: int, auth: bool = False, **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**ok, **_errors(*codes)}, **extra}
    if auth:
        op["security"] = [{"bearer": []}]
        op["responses"].update(_errors(401, 403))
    return op


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_HELD_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_MODULE = {"$ref": "#/components/schemas/Module"}
_DIR = {"$ref": "#/components/schemas/Directory"}
_FS_MODULE = {
    "name": "module",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Module name, percent-encoded",
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _body(model: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}},
    }


_TIME = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "format": "date-time"}]}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}

SCHEMA: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "cove control plane", "version": "1"},
    "paths": {
        "/health": {"get": _op("Full health report", {"200": _ok("Health report")})},
        "/health/live": {"get": _op("Liveness probe", {"200": _ok("The engine answers")})},
        "/health/ready": {"get": _op("Readiness probe", {"200": _ok("Ready")}, 503)},
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "Text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
        "/v1/modules": {
            "get": _op("List modules with state, version, hash and counters", {"200": _ok("Modules")}),
            "post": _op("Load a module from a directory", {"201": _ok("Loaded", _MODULE)}, 409, 413, 422, auth=True, requestBody=_body("LoadRequest")),
        },
        "/v1/modules/{name}": {
            "get": _op("One module", {"200": _ok("Module", _MODULE)}, 404, parameters=[_NAME]),
            "delete": _op("Unload a module", {"200": _ok("Unloaded")}, 404, auth=True, parameters=[_NAME]),
        },
        "/v1/modules/{name}/restart": {
            "post": _op("Unload and load again from its directory", {"200": _ok("Restarted", _MODULE)}, 404, 422, auth=True, parameters=[_NAME]),
        },
        "/v1/modules/{name}/revive": {
            "post": _op(
                "Revive a dead module; with skip_event, pass it over the event it keeps failing on first",
                {"200": _ok("Revived", _MODULE)}, 400, 404, 409, auth=True,
                parameters=[_NAME, _query("skip_event", {"type": "boolean"}, "Skip the failed event (marked handled, no effects, a skipped trajectory)")],
            ),
        },
        "/v1/modules/{name}/reload": {
            "post": _op(
                "Reload a module from its directory: the new version is built, checked and initialized beside the running one, then swapped in between two events; a refused candidate leaves the old one running",
                {"200": _ok("Reloaded", _MODULE)}, 404, 422, auth=True, parameters=[_NAME],
            ),
        },
        "/v1/modules/{name}/drain": {
            "post": _op(
                "Drain a module: handle the events queued now, up to the deadline, then unload (later events wait in the journal)",
                {"200": _ok("Drained (complete: all queued events handled; left: events waiting for the next load)")}, 400, 404, auth=True,
                parameters=[_NAME, _query("deadline", {"type": "string", "default": "30s"}, "Longest wait, a duration like 30s (at most 1h)")],
            ),
        },
        "/v1/modules/{name}/state": {
            "get": _op(
                "List state keys by prefix", {"200": _ok("Keys")}, 400, 404, auth=True,
                parameters=[_NAME, _query("prefix", {"type": "string"}, "Key prefix"), _query("limit", _LIMIT, "Most keys to return"), _query("key", {"type": "string"}, "Read this one key's value instead (any key, even one a path cannot carry)")],
            ),
        },
        "/v1/modules/{name}/state/{key}": {
            "get": _op(
                "Read one state value", {"200": _ok("Value as text (when UTF-8) and base64")}, 404, auth=True,
                parameters=[_NAME, {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
            ),
        },
        "/v1/modules/{name}/state-dump": {
            "get": _op(
                "Every state key with its value (text, or base64 when not UTF-8), in one read", {"200": _ok("State")}, 404, auth=True,
                parameters=[_NAME],
            ),
        },
        "/v1/fs": {
            "get": _op("The module file view's root: one directory per module", {"200": _ok("Directory", _DIR)}, auth=True),
        },
        "/v1/fs/{module}": {
            "get": _op(
                "A module as a directory: status, config, state/, inbox, outbox, trajectories/, identity/, tools, budget",
                {"200": _ok("Directory", _DIR)}, 400, 404, auth=True, parameters=[_FS_MODULE],
            ),
        },
        "/v1/fs/{module}/{path}": {
            "get": _op(
                "A directory (JSON listing) or a file (JSON, UTF-8 text, or octet-stream for a state value that is not text) of the module file view; every name percent-encoded, `%` alone for the empty key",
                {"200": {"description": "Directory listing or file contents", "content": {_JSON: {"schema": {"type": "object"}}, "text/plain": {"schema": {"type": "string"}}, "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
                400, 404, auth=True,
                parameters=[_FS_MODULE, {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Names below the module joined by `/`, each percent-encoded (state/a%2Fb is the key a/b)"}],
            ),
        },
        "/v1/trajectories": {
            "get": _op(
                "Read trajectories (newest first; oldest first after `after`); `next` says where the next page starts", {"200": _ok("Trajectories")}, 400, 401, 404, 503,
                parameters=[
                    _query("module", {"type": "string"}, "Only this module"),
                    _query("outcome", {"type": "string", "enum": ["ok", "failed", "skipped"]}, "Only this outcome"),
                    _query("since", _TIME, "From this time (Unix ms or ISO 8601)"),
                    _query("until", _TIME, "Up to this time (Unix ms or ISO 8601)"),
                    _query("after", {"type": "integer", "minimum": 0}, "Only records after this id (for following)"),
                    _query("before", {"type": "integer", "minimum": 0}, "Only records before this id (the next page: `next.before`)"),
                    _query("limit", _LIMIT, "Most records to return"),
                ],
            ),
        },
        "/v1/events": {
            "post": _op("Emit a custom event", {"202": _ok("Journaled")}, 413, 422, auth=True, requestBody=_body("EmitRequest")),
        },
        "/v1/hooks": {
            "get": _op("The hook chains by point (run order, policy), failure and veto counts, the observer queue", {"200": _ok("Hooks")}),
        },
        "/v1/tools": {
            "get": _op("List the tools of the loaded modules (`<module>.<tool>`, description, input schema)", {"200": _ok("Tools")}),
        },
        "/v1/outbox/dead": {
            "get": _op(
                "Dead letters: sends the outbox gave up on (attempts, last error; the body with `bodies=true`), oldest first",
                {"200": _ok("Dead letters")}, 400, auth=True,
                parameters=[
                    _query("module", {"type": "string"}, "Only this module's"),
                    _query("limit", _LIMIT, "Most dead letters to return (at most 20 with `bodies=true`)"),
                    _query("bodies", {"type": "boolean"}, "Include each message body"),
                ],
            ),
        },
        "/v1/outbox/dead/retry": {
            "post": _op(
                "Queue dead letters again (no attempts, same idempotency key)",
                {"200": _ok("`retried` and `missing` ids")}, 404, 413, 422, auth=True, requestBody=_body("DeadLetterIds"),
            ),
        },
        "/v1/outbox/dead/drop": {
            "post": _op(
                "Delete dead letters for good", {"200": _ok("`dropped` and `missing` ids")}, 404, 413, 422, auth=True,
                requestBody=_body("DeadLetterIds"),
            ),
        },
        "/v1/approvals": {
            "get": _op(
                "Actions held for the operator's approval (`[budgets.<module>] hold_new_recipients`, `hold_value_above_wei`), oldest first",
                {"200": _ok("`approvals`: id, key, module, transport, recipient, body, reason, held_ms")}, 400, auth=True,
                parameters=[
                    _query("module", {"type": "string"}, "Only this module's"),
                    _query("limit", _LIMIT, "Most held actions to return"),
                ],
            ),
        },
        "/v1/approvals/{id}/approve": {
            "post": _op(
                "Send a held action through the outbox with its original idempotency key; the module gets `cove.approval`",
                {"200": _ok("`id` and `approved`: true")}, 404, auth=True, parameters=[_HELD_ID],
            ),
        },
        "/v1/approvals/{id}/deny": {
            "post": _op(
                "Drop a held action unsent; the module gets `cove.approval` with `approved`: false",
                {"200": _ok("`id` and `approved`: false")}, 404, auth=True, parameters=[_HELD_ID],
            ),
        },
        "/v1/stream": {
            "get": _op(
                "The console's live view (Server-Sent Events): `history` (five minutes of counters), then a `snapshot` (health, modules) every second",
                {"200": {"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            ),
        },
        "/v1/modules/{name}/ui-submit": {
            "post": _op(
                "Send a press of a button on the module's A2UI form to it, as the custom event `ui-submit.<name>`",
                {"202": _ok("Journaled (`id`, `name`)")}, 404, 409, 413, 422, auth=True,
                parameters=[_NAME], requestBody=_body("UiSubmitRequest"),
            ),
        },
        "/v1/tools/{name}/call": {
            "post": _op(
                "Call a tool: arguments checked against its schema, run in the module's sandbox in its own transaction",
                {"200": _ok("The tool's result (`result` is its JSON value)")}, 404, 409, 413, 422, auth=True,
                parameters=[_NAME], requestBody=_body("ToolCallRequest"),
            ),
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "status"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
            },
            "Module": {"type": "object", "required": ["name", "state"]},
            "Directory": {
                "type": "object",
                "required": ["path", "type", "entries"],
                "properties": {
                    "path": {"type": "string"},
                    "type": {"const": "dir"},
                    "entries": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "type"],
                            "properties": {"name": {"type": "string"}, "type": {"enum": ["dir", "file"]}},
                        },
                    },
                },
            },
            "LoadRequest": LoadRequest.model_json_schema(),
            "EmitRequest": EmitRequest.model_json_schema(),
            "ToolCallRequest": ToolCallRequest.model_json_schema(),
            "DeadLetterIds": DeadLetterIds.model_json_schema(),
            "UiSubmitRequest": UiSubmitRequest.model_json_schema(),
        },
    },
}  # fmt: skip
