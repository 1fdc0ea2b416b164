"""``GET /v1/stream``: the console's live view, as Server-Sent Events.

Every second the stream sends one ``snapshot`` event: the health report and
every module's status, the same JSON ``/health`` and ``/v1/modules`` answer.
A sampler keeps the engine's counters (events handled and failed, in total
and per module) once a second for the last five minutes, whether or not a
page is open, so a page that connects gets a ``history`` event first and
draws its charts at once instead of a blank box.

Rejected: the page polling the API (a request per view per second, and
charts that start empty), and WebSockets (one-way updates need no second
protocol; SSE goes through the same bearer check as any GET).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._api import status_json
from ._health import health_report

if TYPE_CHECKING:
    from ._api import Api
    from ._view import EngineView

HISTORY_SECONDS: Final = 300
INTERVAL_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class Sample:
    """The counters at one moment: totals and per module (handled, failed)."""

    at_ms: int
    modules: dict[str, tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        handled = sum(h for h, _ in self.modules.values())
        failed = sum(f for _, f in self.modules.values())
        return {
            "at_ms": self.at_ms,
            "handled": handled,
            "failed": failed,
            "modules": {n: list(v) for n, v in self.modules.items()},
        }


class LiveStream:
    """The sampler task and the stream route of one control plane."""

    def __init__(self, engine: EngineView, api: Api) -> None:
        self._engine = engine
        self._api = api
        self.samples: deque[Sample] = deque(maxlen=HISTORY_SECONDS)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[Route]:
        return [Route("/v1/stream", self.stream, methods=["GET"])]

    def sample(self) -> Sample:
        """Take one sample now and keep it."""
        modules = {s.name: (s.handled, s.failed) for s in self._engine.status()}
        taken = Sample(time.time_ns() // 1_000_000, modules)
        self.samples.append(taken)
        return taken

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._sample_forever())

    async def _sample_forever(self) -> None:
        while not self._stopping.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), INTERVAL_S)

    async def aclose(self) -> None:
        """End every open stream and the sampler (before the listener waits for requests)."""
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def stream(self, request: Request) -> Response:
        self._api._authorize(request, write=False)
        return EventSourceResponse(self._events(), ping=15)

    async def _events(self) -> AsyncIterator[ServerSentEvent]:
        history = [s.to_json() for s in self.samples]
        yield ServerSentEvent(json.dumps({"samples": history}), event="history")
        while not self._stopping.is_set():
            yield ServerSentEvent(json.dumps(self.snapshot()), event="snapshot")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), INTERVAL_S)

    def snapshot(self) -> dict[str, Any]:
        """What the console shows, now: health, modules, refused, the latest sample."""
        engine = self._engine
        latest = self.samples[-1] if self.samples else self.sample()
        return {
            "health": health_report(engine),
            "modules": [status_json(s) for s in engine.status()],
            "refused": {str(path): error for path, error in engine.load_errors.items()},
            "sample": latest.to_json(),
        }
