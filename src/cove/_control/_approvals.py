"""The control-plane routes of held actions: list them, approve or deny one.

All need the admin token, the list too: a held message is module data (its
recipient and body), and a decision changes what leaves the engine.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ApiError
from ._api import MAX_LIMIT, Api, _int_param


class ApprovalsApi(Api):
    def routes(self) -> list[Route]:
        return [
            Route("/v1/approvals", self.list_held, methods=["GET"]),
            Route("/v1/approvals/{id:int}/approve", self.approve, methods=["POST"]),
            Route("/v1/approvals/{id:int}/deny", self.deny, methods=["POST"]),
        ]

    async def list_held(self, request: Request) -> Response:
        self._authorize(request)
        module = request.query_params.get("module")
        limit = _int_param(request, "limit", 100, 1, MAX_LIMIT)
        # Off the event loop: the held actions are read from the store under its lock.
        held = await asyncio.to_thread(self.engine.held_actions, module, limit)
        return JSONResponse({"approvals": held})

    async def approve(self, request: Request) -> Response:
        return await self._decide(request, approve=True)

    async def deny(self, request: Request) -> Response:
        return await self._decide(request, approve=False)

    async def _decide(self, request: Request, *, approve: bool) -> Response:
        self._authorize(request)
        held_id: int = request.path_params["id"]
        if not await self.engine.decide([held_id], approve):
            raise ApiError(404, f"no held action with id {held_id} (see GET /v1/approvals)")
        return JSONResponse({"id": held_id, "approved": approve})
