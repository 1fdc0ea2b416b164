"""An httpx transport whose every request is the plugin's ``ctx.fetch``.

The A2A SDK speaks httpx; routing it through the ``http`` capability keeps
the module's allowlist, secrets, deadline and trajectory records in force,
as for any other call a plugin makes.
"""

from __future__ import annotations

import httpx

from ..errors import HostCallError
from ..plugin import PluginContext

# The host's own client sets these per hop: a redirect to another origin must not
# carry the first origin's Host.
_HOST_SETS = frozenset({"host", "content-length", "connection"})
# The host already decoded and de-chunked the body it hands back.
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class HostTransport(httpx.AsyncBaseTransport):
    """One event's requests, each a blocking ``ctx.fetch`` on the event's own loop."""

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = [(k, v) for k, v in request.headers.multi_items() if k not in _HOST_SETS]
        try:
            answer = self._ctx.fetch(request.method, str(request.url), headers, body)
        except HostCallError as exc:
            if exc.kind == "timeout":
                raise httpx.ReadTimeout(exc.message, request=request) from exc
            raise httpx.ConnectError(f"{exc.kind}: {exc.message}", request=request) from exc
        kept = [(k, v) for k, v in answer.headers if k.lower() not in _DROPPED]
        return httpx.Response(answer.status, headers=kept, content=answer.body, request=request)
