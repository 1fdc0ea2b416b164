"""The control-plane routes: modules, state, trajectories, events.

With a token configured, every route that shows module data (status with
its errors, state, trajectories, tools, hooks) needs it, or the read-only
token; anything that changes the engine needs the admin token. Without one
(loopback only) reads are open but state stays closed, and changes are
refused. Parameters are checked to the character (ASCII digits, bounded
integers), so no request reaches a 500.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._body import read_capped
from .._config_operator import ControlSettings
from .._events import Custom, Event
from .._manifest import load_manifest
from .._observe._trajectories import Outcome, TrajectoryQuery
from .._units import parse_duration_ms
from ..errors import ApiError, CoveError, ToolError
from ._auth import Tokens

if TYPE_CHECKING:
    from .._types import ModuleStatus
    from ._view import EngineView

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_BODY = 64 * 1024
MAX_LIMIT = 1_000
MAX_WAITING_QUERIES: Final = 8
DRAIN_DEADLINE: Final = "30s"
MAX_DRAIN_MS: Final = 3_600_000
_ASCII_INT = re.compile(r"[0-9]{1,18}")
_MAX_TIME_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class LoadRequest(BaseModel):
    """``POST /v1/modules``: a module directory on the engine's machine."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="Module directory (relative to the config file).")


class EmitRequest(BaseModel):
    """``POST /v1/events``: a custom event, journaled like any other."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    payload: str = Field(default="", max_length=MAX_BODY)
    source: str = Field(default="control", max_length=200)


class ToolCallRequest(BaseModel):
    """``POST /v1/tools/{name}/call``: the tool's arguments, checked against its schema."""

    model_config = ConfigDict(extra="forbid")
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="The tool's arguments (a JSON object)."
    )


# A refused or failed tool call, by its error kind: the CLI exits 1 on any 4xx.
_TOOL_STATUS = {"not-found": 404, "invalid-input": 422, "unavailable": 409}


def status_json(status: ModuleStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "version": status.version,
        "kind": status.kind,
        "state": status.state,
        "sha256": status.sha256 or None,
        "path": status.path,
        "handled": status.handled,
        "failed": status.failed,
        "restarts": status.restarts,
        "queue_depth": status.queue_depth,
        "queue_depth_stale": status.queue_depth_stale,
        "fuel": status.fuel,
        "state_bytes": status.state_bytes,
        "outbox_backlog": status.outbox_backlog,
        "memory_high_water_bytes": status.memory_high_water,
        "last_error": status.last_error,
        "failed_event_id": status.failed_event_id or None,
        "skipped": status.skipped,
        "outbox_attempts": status.outbox_attempts,
        "outbox_last_error": status.outbox_last_error,
        "outbox_next_retry_ms": status.outbox_next_retry_ms,
        "dead_letters": status.dead_letters,
        "last_error_ms": status.last_error_ms or None,
        "last_error_event_id": status.last_error_event_id or None,
        "last_ok_ms": status.last_ok_ms or None,
        "budgets": status.budgets,
        "engine": status.engine or None,
    }


class Api:
    """Route handlers bound to one engine, its tokens and ``[control]``."""

    def __init__(
        self,
        engine: EngineView,
        tokens: Tokens,
        settings: ControlSettings,
        queries: Executor,
    ) -> None:
        self.engine = engine
        self.tokens = tokens
        self.settings = settings
        self._queries = queries
        self._waiting = 0

    def routes(self) -> list[Route]:
        return [
            Route("/v1/modules", self.list_modules, methods=["GET"]),
            Route("/v1/modules", self.load_module, methods=["POST"]),
            Route("/v1/modules/{name}", self.get_module, methods=["GET"]),
            Route("/v1/modules/{name}", self.unload_module, methods=["DELETE"]),
            Route("/v1/modules/{name}/restart", self.restart_module, methods=["POST"]),
            Route("/v1/modules/{name}/revive", self.revive_module, methods=["POST"]),
            Route("/v1/modules/{name}/drain", self.drain_module, methods=["POST"]),
            Route("/v1/modules/{name}/reload", self.reload_module, methods=["POST"]),
            Route("/v1/modules/{name}/state", self.list_state, methods=["GET"]),
            Route("/v1/modules/{name}/state/{key:path}", self.get_state, methods=["GET"]),
            Route("/v1/trajectories", self.list_trajectories, methods=["GET"]),
            Route("/v1/events", self.emit_event, methods=["POST"]),
            Route("/v1/tools", self.list_tools, methods=["GET"]),
            Route("/v1/hooks", self.list_hooks, methods=["GET"]),
            Route("/v1/tools/{name}/call", self.call_tool, methods=["POST"]),
        ]

    # helpers ----------------------------------------------------------------
    def _authorize(self, request: Request, *, write: bool = True) -> None:
        """Admin token for changes; admin or read-only token for reads once any is configured."""
        if not write and not self.tokens.configured:
            return
        if self.tokens.admin is None and write:
            raise ApiError(
                403,
                "this engine has no control token; set [control] token_env or token_file "
                "in the engine config to allow changes",
            )
        if not self.tokens.admits(request.headers.get("authorization"), write=write):
            raise ApiError(
                401,
                "missing or wrong bearer token (send Authorization: Bearer <token>)",
                {"WWW-Authenticate": "Bearer"},
            )

    def _authorize_state(self, request: Request) -> None:
        """State is values: never open, even on a loopback engine without a token."""
        if not self.tokens.configured:
            raise ApiError(
                403,
                "reading module state needs a control token; set [control] token_env or "
                "read_token_env in the engine config",
            )
        self._authorize(request, write=False)

    def _status(self, name: str) -> ModuleStatus:
        for status in self.engine.status():
            if status.name == name:
                return status
        loaded = sorted(s.name for s in self.engine.status())
        raise ApiError(404, f"no module named {name!r} is loaded; loaded: {loaded}")

    def _here(self, name: str) -> ModuleStatus:
        """A module this engine runs; one run by another engine of the cluster, or by none
        now, is refused with 409 naming where to ask."""
        status = self._status(name)
        if status.state == "elsewhere":
            raise ApiError(
                409, f"module {name!r} runs on engine {status.engine!r}: ask its control plane"
            )
        if status.state == "unplaced":
            raise ApiError(409, f"module {name!r} runs on no engine now: its lease is free")
        return status

    async def _body(self, request: Request, model: type[ModelT]) -> ModelT:
        body = await _read_capped(request, MAX_BODY)
        try:
            return model.model_validate_json(body or b"null")
        except ValidationError as exc:
            raise ApiError(422, "invalid request body: " + _describe(exc)) from None

    # modules ----------------------------------------------------------------
    async def list_modules(self, request: Request) -> Response:
        self._authorize(request, write=False)
        refused = {str(path): error for path, error in self.engine.load_errors.items()}
        modules = [status_json(s) for s in self.engine.status()]
        return JSONResponse({"modules": modules, "refused": refused})

    async def get_module(self, request: Request) -> Response:
        self._authorize(request, write=False)
        return JSONResponse(status_json(self._status(request.path_params["name"])))

    async def load_module(self, request: Request) -> Response:
        self._authorize(request)
        body = await self._body(request, LoadRequest)
        path = self.engine.config.resolve(Path(body.path)).resolve()
        self._check_load(path)
        for loaded in self.engine.status():
            if Path(loaded.path) == path:
                raise ApiError(409, f"{path} is already loaded as module {loaded.name!r}")
        runner = await self.engine.load(path)
        if runner is None:
            # The caller gets the reason; it is not a configured module the
            # health report should keep showing as refused.
            error = self.engine.load_errors.pop(path, f"{path}: not loaded")
            raise ApiError(422, error)
        return JSONResponse(status_json(self._status(runner.name)), 201)

    def _check_load(self, path: Path) -> None:
        """API loads: only from configured places; in-process code not in ``modules`` only when allowed."""
        config = self.engine.config
        modules = {config.resolve(m).resolve() for m in config.modules}
        dirs = [config.resolve(d).resolve() for d in self.settings.load_dirs]
        if path not in modules and not any(path.is_relative_to(d) for d in dirs):
            raise ApiError(
                403,
                f"{path} is not a configured module nor under [control] load_dirs "
                f"({[str(d) for d in dirs]}); add its directory there to load it through the API",
            )
        try:
            kind = load_manifest(path).module.kind
        except CoveError as exc:
            raise ApiError(422, str(exc)) from None
        if kind == "python" and path not in modules and not self.settings.allow_python_loads:
            raise ApiError(
                403,
                f'{path} is a kind = "python" module (in-process code); loading one through '
                "the API needs [control] allow_python_loads = true",
            )

    async def unload_module(self, request: Request) -> Response:
        self._authorize(request)
        name = self._here(request.path_params["name"]).name
        await self.engine.unload(name)
        return JSONResponse({"unloaded": name})

    async def restart_module(self, request: Request) -> Response:
        self._authorize(request)
        status = self._here(request.path_params["name"])
        runner = await self.engine.restart(status.name)
        if runner is None:
            error = self.engine.load_errors.get(Path(status.path), "not loaded")
            raise ApiError(422, f"module {status.name!r} was unloaded but did not load: {error}")
        return JSONResponse(status_json(self._status(runner.name)))

    async def drain_module(self, request: Request) -> Response:
        """Answers once the module is unloaded: drained, or cut at the deadline."""
        self._authorize(request)
        name = self._here(request.path_params["name"]).name
        raw = request.query_params.get("deadline", DRAIN_DEADLINE)
        try:
            deadline_ms = parse_duration_ms(raw)
        except ValueError as exc:
            raise ApiError(400, f"query parameter 'deadline': {exc}") from None
        if deadline_ms > MAX_DRAIN_MS:
            raise ApiError(400, f"query parameter 'deadline' must be at most 1h, got {raw!r}")
        drained = await self.engine.drain(name, deadline_ms / 1000)
        return JSONResponse({"drained": name, "complete": drained.complete, "left": drained.left})

    async def reload_module(self, request: Request) -> Response:
        """A refused candidate is a 422 naming why; the old version keeps running."""
        self._authorize(request)
        status = self._here(request.path_params["name"])
        try:
            await self.engine.reload(status.name)
        except CoveError as exc:
            raise ApiError(
                422,
                f"module {status.name!r} keeps running version {status.version}; "
                f"the reload was refused: {exc}",
            ) from None
        return JSONResponse(status_json(self._status(status.name)))

    async def revive_module(self, request: Request) -> Response:
        self._authorize(request)
        status = self._here(request.path_params["name"])
        if status.state != "dead":
            raise ApiError(409, f"module {status.name!r} is {status.state}, not dead")
        skipped = None
        if _flag(request, "skip_event"):
            skipped = self.engine.skip_failed_event(status.name)
            if skipped is None:
                raise ApiError(
                    409,
                    f"module {status.name!r} was not killed by an event (its init failed, "
                    "or a hook blocked a commit): there is no event to skip; "
                    "revive it without skip_event",
                )
        if not self.engine.revive(status.name):
            raise ApiError(409, f"module {status.name!r} is not dead")
        return JSONResponse(status_json(self._status(status.name)) | {"skipped_event_id": skipped})

    # state ------------------------------------------------------------------
    async def list_state(self, request: Request) -> Response:
        self._authorize_state(request)
        name = self._status(request.path_params["name"]).name
        key = request.query_params.get("key")
        if key is not None:  # any key, even one no path segment can carry (a newline, a ?)
            return self._value(name, key)
        prefix = request.query_params.get("prefix", "")
        limit = _int_param(request, "limit", MAX_LIMIT, 1, MAX_LIMIT)
        keys = self.engine.store.list_keys(name, prefix)
        return JSONResponse({"module": name, "keys": keys[:limit], "truncated": len(keys) > limit})

    async def get_state(self, request: Request) -> Response:
        self._authorize_state(request)
        name = self._status(request.path_params["name"]).name
        return self._value(name, request.path_params["key"])

    def _value(self, name: str, key: str) -> Response:
        value = self.engine.store.get(name, key)
        if value is None:
            raise ApiError(404, f"module {name!r} has no state key {key!r}")
        try:
            text: str | None = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return JSONResponse(
            {
                "module": name,
                "key": key,
                "size": len(value),
                "text": text,
                "base64": base64.b64encode(value).decode("ascii"),
            }
        )

    # trajectories and events ------------------------------------------------
    async def list_trajectories(self, request: Request) -> Response:
        self._authorize(request, write=False)
        store = self.engine.trajectories
        if store is None:
            raise ApiError(404, "trajectories are disabled ([trajectories] enabled = false)")
        outcome = request.query_params.get("outcome")
        if outcome is not None and outcome not in get_args(Outcome):
            raise ApiError(
                400,
                f"query parameter 'outcome' must be one of {list(get_args(Outcome))}, got {outcome!r}",
            )
        after = request.query_params.get("after")
        before = request.query_params.get("before")
        if after is not None and before is not None:
            raise ApiError(400, "query parameters 'after' and 'before' exclude each other")
        query = TrajectoryQuery(
            module=request.query_params.get("module"),
            outcome=outcome,  # type: ignore[arg-type]  # checked against Outcome above
            since_ms=_time_param(request, "since"),
            until_ms=_time_param(request, "until"),
            after_id=None if after is None else _int_param(request, "after", 0, 0, 2**62),
            before_id=None if before is None else _int_param(request, "before", 0, 0, 2**62),
            limit=_int_param(request, "limit", 100, 1, MAX_LIMIT),
            max_chunks=self.settings.query_scan_chunks,
        )
        if self._waiting >= MAX_WAITING_QUERIES:
            raise ApiError(503, "too many trajectory queries at once; retry", {"Retry-After": "1"})
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            page = await loop.run_in_executor(self._queries, store.query_page, query)
        finally:
            self._waiting -= 1
        found = page.found
        last_id = max((t.id for t in found), default=query.after_id or 0)
        more: dict[str, int] = {}
        if page.resume_id is not None:  # the scan budget ran out: where the next page starts
            more = {"after" if query.after_id is not None else "before": page.resume_id}
        elif len(found) == query.limit and query.after_id is None:
            more = {"before": min(t.id for t in found)}
        return JSONResponse(
            {"trajectories": [t.to_json() for t in found], "last_id": last_id, "next": more or None}
        )

    async def emit_event(self, request: Request) -> Response:
        self._authorize(request)
        body = await self._body(request, EmitRequest)
        event = Event(Custom(body.name, body.source, body.payload))
        await self.engine.publish([event])
        return JSONResponse({"id": event.id, "name": body.name}, 202)

    # hooks --------------------------------------------------------------------
    async def list_hooks(self, request: Request) -> Response:
        self._authorize(request, write=False)
        return JSONResponse(self.engine.hooks_report())

    # tools --------------------------------------------------------------------
    async def list_tools(self, request: Request) -> Response:
        self._authorize(request, write=False)
        tools = [
            {
                "name": t.name,
                "module": t.module,
                "description": t.description,
                "input_schema": t.input_schema,
            }
            for t in self.engine.tools.all()
        ]
        return JSONResponse({"tools": tools})

    async def call_tool(self, request: Request) -> Response:
        self._authorize(request)
        body = await self._body(request, ToolCallRequest)
        name = request.path_params["name"]
        try:
            result = await self.engine.tools.call(name, body.arguments)
        except ToolError as exc:
            status = _TOOL_STATUS.get(exc.kind, 422)
            return JSONResponse(
                {"error": str(exc), "status": status, "kind": exc.kind, "tool": name}, status
            )
        return JSONResponse({"tool": name, "result": json.loads(result)})


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _ASCII_INT.fullmatch(raw):
        raise ApiError(400, f"query parameter {name!r} must be an integer, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, f"query parameter {name!r} must be between {low} and {high}")
    return value


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, read as it streams in; 413 (and the connection closed) past ``limit`` bytes."""
    try:
        body = await read_capped(request, limit)
    except ClientDisconnect:  # the client is gone: nobody to answer, nothing to log as a bug
        raise ApiError(400, "the client disconnected before its body arrived") from None
    if body is None:
        raise ApiError(413, f"request body is larger than {limit} bytes", {"Connection": "close"})
    return body


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw in ("false", "0"):
        return False
    if raw in ("", "true", "1"):
        return True
    raise ApiError(400, f"query parameter {name!r} must be true or false, got {raw!r}")


def _time_param(request: Request, name: str) -> int | None:
    """Unix milliseconds, or an ISO 8601 time (UTC when it has no offset), within years 1-9999."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    wrong = ApiError(
        400,
        f"query parameter {name!r} must be Unix milliseconds or ISO 8601 "
        f"(years 1-9999), got {raw[:40]!r}",
    )
    if _ASCII_INT.fullmatch(raw):
        value = int(raw)
        if value > _MAX_TIME_MS:
            raise wrong
        return value
    if not raw.isascii():
        raise wrong
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        value = int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise wrong from None
    if not 0 <= value <= _MAX_TIME_MS:
        raise wrong
    return value


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) or "not valid JSON"
