"""The module file view as MCP resources: ``cove://<module>/<path>``, listed, read, watched.

Design note. A subscribed URI is watched by polling: every ``POLL_S`` the
watcher reads each watched file once (off the event loop) and compares a
digest with the last one; a change is announced with
``notifications/resources/updated`` to each connection that subscribed
(``resources/subscribe``, the handshake era) and as a ``ResourceUpdated`` on
the subscriptions bus (``subscriptions/listen`` streams that asked for that
URI). Rejected: a hook on every commit, which would put file-view work on
each module's commit path whether or not anyone watches; with polling an
idle agent costs nothing, a watched file costs one read per interval, and
any change (a commit, a status change, a new trajectory) is seen the same
way. A change shorter than the interval that is undone within it is missed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Final

import mcp_types as types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent

from ..errors import FilePathError
from ._fs_tree import JSON, TEXT, Directory, File, ModuleFiles, Node

SCHEME: Final = "cove://"
POLL_S: Final = 0.5
PAGE: Final = 500
"""Resources per ``resources/list`` page."""
_MISSING: Final = "missing"


def view_path(uri: str) -> str:
    """The file-view path of a ``cove://`` URI; ``FilePathError`` for another scheme."""
    if not uri.startswith(SCHEME):
        raise FilePathError(uri, f"not a cove resource: URIs are {SCHEME}<module>/<path>")
    return uri.removeprefix(SCHEME)


def contents(uri: str, node: Node) -> types.TextResourceContents | types.BlobResourceContents:
    """A file's bytes as text (JSON, UTF-8) or a blob; a directory as its JSON listing."""
    if isinstance(node, Directory):
        return types.TextResourceContents(
            uri=uri, mime_type=JSON, text=json.dumps(node.to_json(), ensure_ascii=False)
        )
    if node.media_type in (JSON, TEXT):
        return types.TextResourceContents(
            uri=uri, mime_type=node.media_type.split(";")[0], text=node.data.decode()
        )
    blob = base64.b64encode(node.data).decode("ascii")
    return types.BlobResourceContents(uri=uri, mime_type=node.media_type, blob=blob)


class McpResources:
    """The resource handlers of one MCP server, and the watcher of subscribed URIs."""

    def __init__(self, files: ModuleFiles, publish: Callable[[ServerEvent], Awaitable[None]]):
        self._files = files
        self._publish = publish
        self._subscribed: dict[Connection, set[str]] = {}
        self._listening: Counter[str] = Counter()
        self._digests: dict[str, str] = {}
        self._poller: asyncio.Task[None] | None = None

    # handlers -------------------------------------------------------------------
    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        start = _cursor(params)
        paths = await asyncio.to_thread(self._all_files)
        page = paths[start : start + PAGE]
        more = str(start + PAGE) if start + PAGE < len(paths) else None
        return types.ListResourcesResult(
            resources=[
                types.Resource(uri=SCHEME + path, name=path, mime_type=_mime(path)) for path in page
            ],
            next_cursor=more,
        )

    async def list_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=SCHEME + "{module}/state/{key}",
                    name="state value",
                    description="One state key of a module; the key percent-encoded (a/b is a%2Fb).",
                ),
                types.ResourceTemplate(
                    uri_template=SCHEME + "{module}/{file}",
                    name="module file",
                    description="status, config, inbox, outbox or tools of a module (JSON).",
                    mime_type=JSON,
                ),
            ]
        )

    async def read(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        node = await self._read(params.uri)
        return types.ReadResourceResult(contents=[contents(params.uri, node)])

    async def subscribe(
        self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        await self._read(params.uri)  # an unknown URI is refused, not watched forever
        connection: Connection = ctx.session._connection  # see McpTools._initialized
        if connection not in self._subscribed:
            self._subscribed[connection] = set()
            connection.exit_stack.callback(self._subscribed.pop, connection, None)
        await self._baseline([params.uri])
        self._subscribed[connection].add(params.uri)
        self._start()
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._subscribed.get(ctx.session._connection, set()).discard(params.uri)
        return types.EmptyResult()

    async def listen(self, uris: list[str]) -> Callable[[], None]:
        """Watch ``uris`` for a ``subscriptions/listen`` stream; call the result when it ends."""
        await self._baseline(uris)
        self._listening.update(uris)
        self._start()

        def release() -> None:
            self._listening.subtract(uris)
            self._listening += Counter()  # drops the counts that reached zero

        return release

    # the watcher ------------------------------------------------------------------
    def _watched(self) -> set[str]:
        return set(self._listening).union(*self._subscribed.values())

    def _start(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        """Until nothing is watched: read each watched URI, announce the changed ones. A URI
        seen for the first time (its baseline dropped) is only recorded, never announced."""
        while True:
            await asyncio.sleep(POLL_S)
            watched = sorted(self._watched())
            for uri in set(self._digests).difference(watched):
                del self._digests[uri]  # unwatched: the next watch takes a new baseline
            if not watched:
                self._poller = None
                return
            digests = await asyncio.to_thread(self._digest_all, watched)
            for uri, digest in digests.items():
                before = self._digests.get(uri)
                self._digests[uri] = digest
                if before is not None and before != digest:
                    await self._announce(uri)

    async def _announce(self, uri: str) -> None:
        await self._publish(ResourceUpdated(uri))
        for connection, uris in list(self._subscribed.items()):
            if uri in uris:
                await connection.send_resource_updated(uri)  # a closed stream drops it

    async def _baseline(self, uris: list[str]) -> None:
        """The digest a change is measured against, taken when the watch starts."""
        fresh = [u for u in uris if u not in self._digests]
        self._digests.update(await asyncio.to_thread(self._digest_all, fresh))

    def _digest_all(self, uris: list[str]) -> dict[str, str]:
        return {uri: self._digest(uri) for uri in uris}

    def _digest(self, uri: str) -> str:
        try:
            node = self._files.read(view_path(uri))
        except FilePathError:
            return _MISSING
        if isinstance(node, File):
            return hashlib.sha256(node.data).hexdigest()
        return hashlib.sha256(repr(node.entries).encode()).hexdigest()

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    # helpers ----------------------------------------------------------------------
    async def _read(self, uri: str) -> Node:
        try:
            return await asyncio.to_thread(self._files.read, view_path(uri))
        except FilePathError as exc:
            raise MCPError(types.INVALID_PARAMS, f"resource {uri}: {exc}") from None

    def _all_files(self) -> list[str]:
        found: list[str] = []
        for module in self._files.modules():
            try:
                found.extend(self._files.files(module))
            except FilePathError:  # unloaded while listed
                continue
        return found


def _cursor(params: types.PaginatedRequestParams | None) -> int:
    raw = None if params is None else params.cursor
    if raw is None:
        return 0
    if not raw.isascii() or not raw.isdigit():
        raise MCPError(types.INVALID_PARAMS, f"resources/list: unknown cursor {raw[:40]!r}")
    return int(raw)


def _mime(path: str) -> str | None:
    """The MIME type a listing can promise: JSON files are JSON; state values vary."""
    part = path.split("/")[1] if "/" in path else ""
    if part in ("status", "config", "inbox", "outbox", "tools", "trajectories"):
        return JSON
    if part == "identity":
        return "text/plain"
    return None


__all__ = ["SCHEME", "McpResources", "view_path"]
