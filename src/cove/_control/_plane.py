"""The control plane: assembles the API app and the metrics listener for one engine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._listen import ListenerLimits
from .._local_engines import remove_record, write_record
from .._observe._chain_metrics import ChainCollector
from .._observe._logging import engine_logger
from .._observe._metrics import CONTENT_TYPE, EngineCollector, exposition, new_registry
from .._observe._outbox_metrics import OutboxCollector
from .._observe._transport_metrics import TransportCollector
from .._sources._chain import ChainSource
from .._types import ModuleState
from ..errors import ControlError
from ._api import Api
from ._approvals import ApprovalsApi
from ._auth import BearerGuard, Tokens, read_read_token, read_token
from ._console import console_routes
from ._fs_api import FsApi
from ._health import health_report, health_summary, readiness
from ._hosts import HostGuard, allowed_names
from ._live import LiveStream
from ._mcp_endpoint import McpEndpoint
from ._openapi import SCHEMA
from ._outbox import OutboxApi
from ._responses import EXCEPTION_HANDLERS, error_response
from ._server import HttpListener
from ._state_dump import StateDumpApi
from ._ui import UiApi

if TYPE_CHECKING:
    from ._mcp import McpTools
    from ._view import EngineView


Endpoint = Callable[[Request], Awaitable[Response]]


class ControlPlane:
    """HTTP API on ``[control]`` and Prometheus on ``[metrics]``; either may be absent."""

    def __init__(self, engine: EngineView) -> None:
        self.engine = engine
        config = engine.config
        collector = EngineCollector(
            engine.status, [s.value for s in ModuleState], engine.latency, engine.gauges
        )
        self.registry = new_registry(collector)
        self.registry.register(
            ChainCollector(lambda: [s for s in engine.sources if isinstance(s, ChainSource)])
        )
        self.registry.register(OutboxCollector(engine.outbox_numbers))
        self.registry.register(TransportCollector(engine.transport_counts))
        self.api: HttpListener | None = None
        self.metrics: HttpListener | None = None
        self._mcp: McpEndpoint | None = None
        self.live: LiveStream | None = None
        self._record: Path | None = None
        limits = ListenerLimits.from_settings(config.listeners)
        self.tokens = Tokens()
        # Trajectory queries scan and decode on threads of their own: never the
        # default pool that module batches and commit flushes run on.
        self.queries: ThreadPoolExecutor | None = None
        if config.control is not None:
            control = config.control
            self.tokens = Tokens(read_token(config, control), read_read_token(config, control))
            self._mcp = McpEndpoint(engine, control.host)
            mcp_app = BearerGuard(self._mcp, self.tokens.admin, "MCP")
            self.queries = ThreadPoolExecutor(control.query_workers, "cove-query")
            api = (engine, self.tokens, control, self.queries)
            routes = Api(*api)
            self.live = LiveStream(engine, routes)
            app = self._app(
                [
                    *routes.routes(),
                    *self.live.routes(),
                    *OutboxApi(*api).routes(),
                    *ApprovalsApi(*api).routes(),
                    *UiApi(*api).routes(),
                    *StateDumpApi(*api).routes(),
                    *FsApi(*api).routes(),
                    *console_routes(),
                    Route("/mcp", mcp_app),
                ],
                self._health,
            )
            guarded = HostGuard(app, allowed_names(control.host, control.allowed_hosts))
            self.api = HttpListener(guarded, control.host, control.port, "control plane", limits)
        if config.metrics is not None:
            app = self._app([], self._health_summary)
            guarded = HostGuard(app, allowed_names(config.metrics.host, ()))
            self.metrics = HttpListener(
                guarded, config.metrics.host, config.metrics.port, "metrics listener", limits
            )

    def _app(self, routes: list[BaseRoute], health: Endpoint) -> Starlette:
        common: list[BaseRoute] = [
            Route("/metrics", self._metrics, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/health/live", self._live, methods=["GET"]),
            Route("/health/ready", self._ready, methods=["GET"]),
            Route("/openapi.json", self._openapi, methods=["GET"]),
        ]
        return Starlette(routes=[*common, *routes], exception_handlers=EXCEPTION_HANDLERS)

    async def _metrics(self, request: Request) -> Response:
        return Response(exposition(self.registry), media_type=CONTENT_TYPE)

    async def _health(self, request: Request) -> Response:
        """The full report (module errors, refused paths): module data, behind a configured token."""
        authorization = request.headers.get("authorization")
        if self.tokens.configured and not self.tokens.admits(authorization, write=False):
            return error_response(
                401,
                "the full health report needs the control token (or the read-only one); "
                "/health/live and /health/ready are open",
                {"WWW-Authenticate": "Bearer"},
            )
        return JSONResponse(health_report(self.engine))

    async def _health_summary(self, request: Request) -> Response:
        """The metrics listener has no token: states and counts, no error texts or paths."""
        return JSONResponse(health_summary(self.engine))

    async def _live(self, request: Request) -> Response:
        return JSONResponse({"live": True})

    async def _ready(self, request: Request) -> Response:
        ready, reason = readiness(self.engine)
        return JSONResponse({"ready": ready, "reason": reason}, 200 if ready else 503)

    async def _openapi(self, request: Request) -> Response:
        return JSONResponse(SCHEMA)

    def bind(self) -> None:
        """Claim both ports before the engine opens anything; a taken port fails here."""
        bound: list[HttpListener] = []
        try:
            for listener in self._listeners():
                listener.bind()
                bound.append(listener)
        except ControlError:
            for listener in bound:
                listener.close_socket()
            raise

    def _listeners(self) -> list[HttpListener]:
        return [x for x in (self.api, self.metrics) if x is not None]

    @property
    def mcp(self) -> McpTools | None:
        """The MCP server, once a first /mcp request started it."""
        return None if self._mcp is None else self._mcp.server

    async def start(self) -> None:
        if self.live is not None:
            await self.live.start()
        for listener in self._listeners():
            await listener.start()
            engine_logger().info(f"{listener.what} listening", url=listener.url)
        control = self.engine.config.control
        if self.api is not None and control is not None and control.token_file is not None:
            token_file = self.engine.config.resolve(control.token_file)
            self._record = write_record(self.api.host, self.api.port, self.api.url, token_file)

    async def aclose(self) -> None:
        if self._record is not None:
            remove_record(self._record)
        if self.live is not None:
            await self.live.aclose()
        for listener in self._listeners():
            await listener.aclose()
        if self._mcp is not None:
            await self._mcp.aclose()
        if self.queries is not None:
            self.queries.shutdown(wait=False, cancel_futures=True)
