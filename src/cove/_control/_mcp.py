"""The MCP server: the tools of every loaded module, for LLM agents (official ``mcp`` SDK).

Design note. The SDK's low-level ``Server`` is used, not ``MCPServer``: the
tools belong to the engine, change while it runs and carry their own JSON
Schemas, so a list handler and a call handler over ``Engine.tools`` fit
better than registering Python functions. A failed call comes back as a
``CallToolResult`` with ``isError`` and the reason (``<kind>: tool 'x': …``).

``tools.listChanged`` is advertised, and every change of the tool list
(a module loaded, unloaded or dead) is sent two ways, because the SDK's own
notify helper reaches only clients of the newest protocol revision:
``notifications/tools/list_changed`` to each connection that completed the
plain ``initialize`` handshake (what most agents do), and an event on the
subscriptions bus for clients that opened ``subscriptions/listen``. A
connection is forgotten when it ends (the client deletes its HTTP session,
the SDK ends it after its idle timeout, stdin closes).

With a ``ModuleFiles`` it also serves the module file view as resources
(``cove://<module>/<path>``, see ``_mcp_resources``), with subscriptions.

Served over stdio by ``cove mcp`` and over streamable HTTP at ``/mcp`` on
the control plane (bearer token required there).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from ..errors import ToolError
from ._mcp_resources import McpResources

if TYPE_CHECKING:
    from ._fs_tree import ModuleFiles
    from ._view import ToolCatalog

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _ToolServer(Server[Any]):
    """Advertises ``tools.listChanged`` on every transport: the HTTP session
    manager asks for the default options, which leave it false."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True),
            experimental_capabilities,
            extensions,
        )


class McpTools:
    """One MCP server over an engine's tools; serve it on stdio or mount it over HTTP."""

    def __init__(self, tools: ToolCatalog, files: ModuleFiles | None = None) -> None:
        self._tools = tools
        self._connections: set[Connection] = set()  # handshake clients, while connected
        self._bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self._bus)
        self._pending: set[asyncio.Task[None]] = set()
        self.resources = None if files is None else McpResources(files, self._bus.publish)
        resources = self.resources
        self.server: Server[Any] = _ToolServer(
            "cove",
            version=importlib.metadata.version("cove"),
            instructions=(
                "Tools of the modules loaded in this cove engine, named <module>.<tool>; "
                "each module's status, config, state, inbox, outbox, trajectories, identity "
                "and tools as read-only resources cove://<module>/<path>."
            ),
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_subscriptions_listen=self._listen_stream,
            on_list_resources=None if resources is None else resources.list_resources,
            on_list_resource_templates=None if resources is None else resources.list_templates,
            on_read_resource=None if resources is None else resources.read,
            on_subscribe_resource=None if resources is None else resources.subscribe,
            on_unsubscribe_resource=None if resources is None else resources.unsubscribe,
        )
        self.server.add_notification_handler(
            "notifications/initialized", types.NotificationParams, self._initialized
        )
        self._unwatch = tools.watch(self._changed)
        self._manager: StreamableHTTPSessionManager | None = None
        self._holder: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # handlers -------------------------------------------------------------------
    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=t.name, description=t.description, input_schema=t.input_schema)
                for t in self._tools.all()
            ]
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            result = await self._tools.call(params.name, params.arguments or {})
        except ToolError as exc:
            text = f"{exc.kind}: {exc}"
            return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)
        value = json.loads(result)
        return types.CallToolResult(
            content=[types.TextContent(text=result)],
            structured_content=value if isinstance(value, dict) else None,
        )

    async def _listen_stream(
        self, ctx: ServerRequestContext[Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """A ``subscriptions/listen`` stream; the resource URIs it asks for are watched."""
        uris = list(params.notifications.resource_subscriptions or ())
        if self.resources is None or not uris:
            return await self._listen(ctx, params)
        release = await self.resources.listen(uris)
        try:
            return await self._listen(ctx, params)
        finally:
            release()

    async def _initialized(
        self, ctx: ServerRequestContext[Any], params: types.NotificationParams
    ) -> None:
        # The low-level context has no public handle on the connection (its
        # ServerSession is a per-request proxy). The connection's exit stack is
        # the SDK's per-connection teardown, unwound however it ends.
        connection: Connection = ctx.session._connection
        self._connections.add(connection)
        connection.exit_stack.callback(self._connections.discard, connection)

    # list changes ----------------------------------------------------------------
    def _changed(self) -> None:
        task = asyncio.ensure_future(self._announce())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _announce(self) -> None:
        await self._bus.publish(ToolsListChanged())
        for connection in list(self._connections):
            await connection.send_tool_list_changed()  # never raises: a closed stream drops it

    # transports ------------------------------------------------------------------
    async def serve_stdio(self) -> None:
        """Serve one client on this process's stdin/stdout until it closes stdin."""
        async with stdio_server() as (read, write):
            await self.server.run(read, write, self.server.create_initialization_options())

    def http_app(self, host: str) -> ASGIApp:
        """The streamable HTTP endpoint; ``start``/``aclose`` run its sessions."""
        security = None
        if host in _LOOPBACK:  # the SDK's DNS-rebinding guard for a local listener
            security = TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
            )
        self._manager = StreamableHTTPSessionManager(self.server, security_settings=security)
        return StreamableHTTPASGIApp(self._manager)

    async def start(self) -> None:
        """Open the HTTP sessions' task group (anyio: entered and left in one task)."""
        manager = self._manager
        if manager is None:
            return
        ready = asyncio.Event()

        async def hold() -> None:
            async with manager.run():
                ready.set()
                await self._stop.wait()

        self._holder = asyncio.ensure_future(hold())
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([self._holder, waiter], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._holder.done():
            self._holder.result()  # raises what stopped it

    async def aclose(self) -> None:
        """Stop following the tool list and the watched resources; end the HTTP sessions."""
        self._unwatch()
        if self.resources is not None:
            await self.resources.aclose()
        self._stop.set()
        if self._holder is not None:
            await self._holder
