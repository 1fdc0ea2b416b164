"""/mcp on the control plane, with the MCP server imported and started on first use.

The mcp SDK takes ~1 s to import (pydantic models for the whole protocol),
which was most of an engine's start with a control plane. The endpoint
imports it on a worker thread when the first request arrives, so an engine
that no agent talks to never pays, and one that is asked pays once.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from ._fs_tree import ModuleFiles

if TYPE_CHECKING:
    from ._mcp import McpTools
    from ._view import EngineView


class McpEndpoint:
    """An ASGI app that builds the ``McpTools`` HTTP app on its first request."""

    def __init__(self, engine: EngineView, host: str) -> None:
        self._engine = engine
        self._host = host
        self._lock = asyncio.Lock()
        self._app: ASGIApp | None = None
        self.server: McpTools | None = None
        self._closed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or await self._open()
        await app(scope, receive, send)

    async def _open(self) -> ASGIApp:
        async with self._lock:
            if self._app is None:
                module = await asyncio.to_thread(importlib.import_module, "cove._control._mcp")
                server: McpTools = module.McpTools(self._engine.tools, ModuleFiles(self._engine))
                app = server.http_app(self._host)
                await server.start()
                self.server, self._app = server, app
            return self._app

    async def aclose(self) -> None:
        """End the sessions (if any were opened); later requests are not served."""
        async with self._lock:
            if self.server is not None:
                await self.server.aclose()
