"""An httpx transport whose every request is the plugin's ``ctx.fetch``.

The A2A SDK speaks httpx; routing it through the ``http`` capability keeps
the module's allowlist, secrets, deadline and trajectory records in force,
as for any other call a plugin makes.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ..errors import HostCallError
from ..plugin import PluginContext

# The host's own client sets these per hop: a redirect to another origin must not
# carry the first origin's Host.
_HOST_SETS = frozenset({"host", "content-length", "connection"})
# The host already decoded and de-chunked the body it hands back.
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class HostTransport(httpx.AsyncBaseTransport):
    """One event's requests, each a blocking ``ctx.fetch`` on the event's own loop;
    ``headers`` are added to each (their ``{{secret:…}}`` filled in by the host)."""

    def __init__(self, ctx: PluginContext, headers: Mapping[str, str] | None = None) -> None:
        self._ctx = ctx
        self._extra = dict(headers or {})
        self._replaced = {name.lower() for name in self._extra}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = [
            (k, v)
            for k, v in request.headers.multi_items()
            if k not in _HOST_SETS and k not in self._replaced
        ]
        headers += self._extra.items()
        try:
            answer = self._ctx.fetch(request.method, str(request.url), headers, body)
        except HostCallError as exc:
            if exc.kind == "timeout":
                raise httpx.ReadTimeout(exc.message, request=request) from exc
            raise httpx.ConnectError(f"{exc.kind}: {exc.message}", request=request) from exc
        kept = [(k, v) for k, v in answer.headers if k.lower() not in _DROPPED]
        return httpx.Response(answer.status, headers=kept, content=answer.body, request=request)
