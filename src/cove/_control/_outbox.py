"""The control-plane routes of the outbox's dead letters: list, retry, drop.

All three need the token: a dead letter holds a message a module sent (its
recipient and body are module data), and retrying or dropping one changes
what leaves the engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._store._base import DeadLetter
from ..errors import ApiError
from ._api import MAX_LIMIT, Api, _int_param

MAX_BODIES = 20
"""Most dead letters one ``?bodies=true`` list returns (each body up to 1 MiB)."""


class DeadLetterIds(BaseModel):
    """``POST /v1/outbox/dead/retry`` and ``/drop``: which dead letters."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(
        min_length=1, max_length=MAX_LIMIT, description="Dead-letter ids (from the list)."
    )


def dead_letter_json(dead: DeadLetter) -> dict[str, Any]:
    """The dead letter's fields; ``body`` only when it was read."""
    fields: dict[str, Any] = {
        "id": dead.id,
        "key": dead.key,
        "module": dead.module,
        "kind": dead.kind,
        "transport": dead.transport or None,
        "attempts": dead.attempts,
        "created_ms": dead.created_ms,
        "dead_ms": dead.dead_ms,
        "last_error": dead.last_error,
    }
    if dead.body is not None:
        fields["body"] = dead.body
    return fields


class OutboxApi(Api):
    """Dead-letter routes; the token checks and body parsing are the API's own."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/outbox/dead", self.list_dead, methods=["GET"]),
            Route("/v1/outbox/dead/retry", self.retry_dead, methods=["POST"]),
            Route("/v1/outbox/dead/drop", self.drop_dead, methods=["POST"]),
        ]

    async def list_dead(self, request: Request) -> Response:
        self._authorize(request)
        module = request.query_params.get("module")
        bodies = request.query_params.get("bodies") == "true"
        most = MAX_BODIES if bodies else MAX_LIMIT
        limit = _int_param(request, "limit", min(100, most), 1, most)
        # Off the event loop: up to MAX_LIMIT rows read under the store's lock.
        found = await asyncio.to_thread(self.engine.store.dead_letters, module, limit, bodies)
        return JSONResponse({"dead_letters": [dead_letter_json(d) for d in found]})

    async def retry_dead(self, request: Request) -> Response:
        self._authorize(request)
        body = await self._body(request, DeadLetterIds)
        done = await self.engine.retry_dead(body.ids)
        return _answer("retried", body.ids, done)

    async def drop_dead(self, request: Request) -> Response:
        self._authorize(request)
        body = await self._body(request, DeadLetterIds)
        done = await self.engine.drop_dead(body.ids)
        return _answer("dropped", body.ids, done)


def _answer(verb: str, asked: list[int], done: list[int]) -> Response:
    if not done:
        raise ApiError(404, f"no dead letter with id {asked} (see GET /v1/outbox/dead)")
    missing = sorted(set(asked) - set(done))
    return JSONResponse({verb: done, "missing": missing})
