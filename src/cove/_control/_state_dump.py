"""The control-plane route that reads all of a module's state at once (``cove state dump``).

One call instead of a list and a get per key, read in one store query so the
values belong together. The size is bounded by the module's state quota
(``[resources] state_bytes``); the read runs off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._api import Api


def value_json(value: bytes) -> dict[str, Any]:
    """A value as its size and its text, or base64 when it is not UTF-8."""
    try:
        return {"size": len(value), "text": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"size": len(value), "base64": base64.b64encode(value).decode("ascii")}


class StateDumpApi(Api):
    """``GET /v1/modules/{name}/state-dump``; the token rules are the state routes' own."""

    def routes(self) -> list[Route]:
        return [Route("/v1/modules/{name}/state-dump", self.dump_state, methods=["GET"])]

    async def dump_state(self, request: Request) -> Response:
        self._authorize_state(request)
        name = self._status(request.path_params["name"]).name
        items = await asyncio.to_thread(self.engine.store.state_items, name)
        return JSONResponse(
            {
                "module": name,
                "keys": len(items),
                "bytes": sum(len(value) for _, value in items),
                "state": {key: value_json(value) for key, value in items},
            }
        )
