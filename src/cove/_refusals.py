"""Refused requests slowed down per peer: a client looping on 401s cannot flood the event loop.

A refusal is cheap, but not free: each one is a connection, a parse, a
route and an answer on the engine's event loop, and a client that asks
again the moment it is refused turns that into a busy loop that delays
every module (measured: twelve tokenless query loops took a module's p99
from 8.8 to 51 ms). So each peer address has a token bucket for refused
answers (401, 403, 421): a burst is answered at once, past it each refusal
waits for its turn before it is sent. A waiting client sends nothing more,
so its loop runs at the bucket's rate. Only refusals wait: a request that
is let in (the right token, from any address) never does, and one peer's
refusals never touch another's bucket.

Rejected: closing a throttled peer's connections on accept, which would
also shut out a legitimate client behind the same address (a reverse
proxy); and a fixed delay per refusal, which many parallel connections
would multiply. A listener that shuts down answers the waiting refusals at
once, so an attacker cannot hold up the engine's stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Final

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._ratelimit import RateLimitedLog

REFUSED: Final = frozenset({401, 403, 421})


class RefusalThrottle:
    """A token bucket of refused answers per peer address (``delay`` says how long one waits).

    Kept as virtual time: ``_full[peer]`` is when that peer's bucket would be
    full again. Each refusal adds ``1/rate``; what lies past ``burst``
    refusals' worth is the wait. The wait is capped at ``max_delay`` and so
    is the debt, so a peer that opened many connections at once is not owed
    minutes of waiting later.
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_delay: float,
        clock: Callable[[], float] = time.monotonic,
        max_peers: int = 10_000,
    ) -> None:
        self._step = 1.0 / rate
        self._allowance = burst * self._step
        self._max_delay = max_delay
        self._clock = clock
        self._max_peers = max_peers
        self._full: dict[str, float] = {}

    @property
    def peers(self) -> int:
        """Addresses with a bucket not yet full again."""
        return len(self._full)

    def delay(self, peer: str) -> float:
        """Seconds the refusal of ``peer``'s request waits before it is sent (0: at once)."""
        now = self._clock()
        full = max(self._full.get(peer, now), now) + self._step
        delay = min(max(0.0, full - now - self._allowance), self._max_delay)
        self._full[peer] = min(full, now + self._allowance + self._max_delay)
        if len(self._full) > self._max_peers:
            self._forget(now)
        return delay

    def _forget(self, now: float) -> None:
        """Drop full buckets; if that is not enough, the oldest ones (they restart full)."""
        self._full = {peer: full for peer, full in self._full.items() if full > now}
        excess = len(self._full) - self._max_peers * 3 // 4
        for peer in list(self._full)[: max(0, excess)]:
            del self._full[peer]


class ThrottleRefusals:
    """ASGI middleware in front of a listener's app: a refused answer waits for its peer's turn."""

    def __init__(self, app: ASGIApp, throttle: RefusalThrottle, what: str) -> None:
        self._app = app
        self._throttle = throttle
        self._what = what
        self._log = RateLimitedLog(structlog.get_logger("cove.listen").warning)
        self._released = asyncio.Event()

    def release(self) -> None:
        """Answer every waiting refusal now and stop delaying: the listener is shutting down."""
        self._released.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        client = scope.get("client")
        peer = client[0] if client else ""

        async def throttled(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in REFUSED:
                delay = self._throttle.delay(peer)
                if delay > 0 and not self._released.is_set():
                    self._log(
                        "throttled",
                        f"{self._what} slowing down refused requests "
                        "([listeners] refusal_rate / refusal_burst)",
                        peer=peer,
                        status=message["status"],
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._released.wait()
            await send(message)

        await self._app(scope, receive, throttled)
