"""An HTTP server embedded in the engine (control plane, webhooks, metrics): its port, its uvicorn, its limits.

Rejected: ``uvicorn.Server.serve()`` as it is, because it installs its own
SIGINT/SIGTERM handlers and would steal Ctrl-C from ``cove run``; and letting
uvicorn bind the port, because on failure it calls ``sys.exit``. So the
socket is bound here and the server subclass captures no signals.

What uvicorn does not give a listener facing careless or hostile clients is
added around its httptools protocol (``_GuardedHttpTools``): a connection cap (per
listener, and a share of the process's open-file limit across all of them),
a deadline for a request's headers, and an idle timeout while the client
owes bytes. A sweeper task checks every open connection once a second, which
costs the request path one clock read per read instead of a timer per
connection. Rejected: uvicorn's ``limit_concurrency``, which still accepts
and keeps every connection (it only answers 503 to requests), and its
keep-alive timeout alone, which never starts before the first request.

The socket is made with ``IPPROTO_TCP`` on purpose: asyncio sets
``TCP_NODELAY`` on accepted sockets only when their protocol says TCP, and
without it every keep-alive response after the first waits for the peer's
delayed ACK (~40 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import resource
import socket
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Final, cast

import httptools
import structlog
import uvicorn
from starlette.types import ASGIApp, Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ._coalesce import CoalescingTransport
from ._ratelimit import RateLimitedLog
from ._refusals import RefusalThrottle, ThrottleRefusals
from ._units import parse_duration_ms

SWEEP_SECONDS: Final = 1.0
KEPT_FOR_EACH: Final = 8
LOG_EVERY_SECONDS: Final = 10.0
MAX_HEADER_BYTES: Final = 16 * 1024  # a request line and its headers together
MAX_PIPELINED: Final = 16  # requests queued behind the one being answered, per connection
_REFUSAL: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
    b"content-length: 25\r\nconnection: close\r\n\r\ntoo many open connections"
)
_OUT_OF_FDS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_BODY_RECEIVED: Final = "cove.body_received"


def body_received(scope: Scope) -> bool:
    """Did the listener hold the request's whole body before the app was called?

    Then reading it cannot wait on the client, and the webhook ingress arms
    no body deadline: a timer per request was ~8% of its event loop's time.
    """
    return scope.get(_BODY_RECEIVED) is True


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    """A listener's connection cap and timeouts (from ``[listeners]``)."""

    max_connections: int = 256
    backlog: int = 64
    header_timeout: float = 5.0
    idle_timeout: float = 5.0
    refusal_rate: float = 5.0
    refusal_burst: int = 20
    refusal_max_delay: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> ListenerLimits:
        """From a ``ListenerSettings`` (typed loosely: ``_listen`` sits below the config)."""
        return cls(
            max_connections=settings.max_connections,
            backlog=settings.backlog,
            header_timeout=parse_duration_ms(settings.header_timeout) / 1000,
            idle_timeout=parse_duration_ms(settings.idle_timeout) / 1000,
            refusal_rate=settings.refusal_rate,
            refusal_burst=settings.refusal_burst,
            refusal_max_delay=parse_duration_ms(settings.refusal_max_delay) / 1000,
        )


def listen_socket(host: str, port: int, backlog: int = 64) -> socket.socket:
    """A bound, listening, non-blocking TCP socket; ``OSError`` when the port cannot be had.

    Binding up front (rather than letting uvicorn do it) is what lets a taken
    port fail before the engine starts anything else.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def fd_budget() -> int:
    """How many connections all listeners together may hold: the open-file limit minus a reserve.

    A quarter of the limit (at least 64) stays for what the engine itself
    opens: its databases, module files, outbound http, chain connections.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft > 1 << 20:
        soft = 1 << 20
    return max(16, soft - max(64, soft // 4))


class _Budget:
    """Connections held by every listener of this process, against ``fd_budget()``.

    Each serving listener keeps ``KEPT_FOR_EACH`` of the budget for itself,
    so a flood on one port still leaves the others (``/health/live`` on the
    control plane) a few connections.
    """

    open = 0
    limit = 0
    listeners: ClassVar[weakref.WeakSet[EmbeddedServer]] = weakref.WeakSet()

    @classmethod
    def admit(cls, server: EmbeddedServer) -> bool:
        if cls.limit == 0:
            cls.limit = fd_budget()
        kept = sum(
            max(0, KEPT_FOR_EACH - other.open) for other in cls.listeners if other is not server
        )
        if cls.open >= cls.limit - kept:
            return False
        cls.open += 1
        return True

    @classmethod
    def release(cls) -> None:
        cls.open -= 1


class _ListenerConfig(uvicorn.Config):
    """uvicorn's config plus what the guarded protocol needs to reach."""

    def __init__(self, app: ASGIApp, server: EmbeddedServer) -> None:
        limits = server.limits
        throttle = RefusalThrottle(
            rate=limits.refusal_rate,
            burst=limits.refusal_burst,
            max_delay=limits.refusal_max_delay,
        )
        self.refusals = ThrottleRefusals(app, throttle, server.what)
        super().__init__(
            self.refusals,
            lifespan="off",
            log_config=None,
            access_log=False,
            http=_GuardedHttpTools,
            ws="none",
            proxy_headers=False,  # X-Forwarded-For from loopback would let a client pick its address
            backlog=limits.backlog,
            timeout_keep_alive=max(1, int(limits.idle_timeout)),
        )
        self.server = server


class _Phase(enum.Enum):
    """Where a connection is in its current request, for the sweeper."""

    IDLE = "idle"  # waiting for a request: the idle timeout applies
    HEADERS = "headers"  # a request began: its headers must end within header_timeout
    BODY = "body"  # the client owes body bytes: the idle timeout applies to its progress
    APP = "app"  # the request is in: the app (or the response) is what takes time


class _GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with admission against the caps, bounds and phases for the sweeper.

    httptools (llhttp, C) parses at about half the CPU of h11 per request.
    It bounds neither a header section's size (h11 did not either, for one
    that came in one read) nor how many pipelined requests one read may
    queue (h11 took them one at a time): both are bounded here, and past
    either the request gets uvicorn's 400 and the connection is closed.
    """

    _admitted = False
    _progress = 0.0
    _headers_since = 0.0
    _header_bytes = 0
    _phase = _Phase.IDLE

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        server = cast(_ListenerConfig, self.config).server
        if not server.admit():
            transport.write(_REFUSAL)
            transport.close()
            return
        self._admitted = True
        self._progress = self.loop.time()
        super().connection_made(CoalescingTransport(transport, self.loop))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        cast(_ListenerConfig, self.config).server.release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        self._progress = self.loop.time()
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._phase = _Phase.HEADERS
        self._headers_since = self.loop.time()
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise httptools.HttpParserError("header section too large")

    def on_headers_complete(self) -> None:
        self._phase = _Phase.BODY
        super().on_headers_complete()
        if len(self.pipeline) > MAX_PIPELINED:
            raise httptools.HttpParserError("too many pipelined requests")

    def on_message_complete(self) -> None:
        self._phase = _Phase.APP
        super().on_message_complete()
        if self.cycle.more_body is False:
            self.cycle.scope[_BODY_RECEIVED] = True  # type: ignore[typeddict-unknown-key]

    def on_response_complete(self) -> None:
        self._progress = self.loop.time()
        if self._phase is _Phase.APP:
            self._phase = _Phase.IDLE
        super().on_response_complete()

    def stalled(self, now: float, limits: ListenerLimits) -> bool:
        """True when the client owes bytes and has made no progress in time."""
        if self._phase is _Phase.HEADERS and now - self._headers_since > limits.header_timeout:
            return True
        if self._phase in (_Phase.IDLE, _Phase.HEADERS, _Phase.BODY):
            return now - self._progress > limits.idle_timeout
        return False

    def close_stalled(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host, says when it listens, and holds its limits."""

    def __init__(
        self,
        app: ASGIApp,
        on_started: Callable[[], None],
        *,
        limits: ListenerLimits,
        what: str,
    ) -> None:
        self.limits = limits
        self.what = what
        self.open = 0
        self._log = structlog.get_logger("cove.listen")
        self._refusals = RateLimitedLog(self._log.warning, LOG_EVERY_SECONDS)
        self._stalls = RateLimitedLog(self._log.warning, LOG_EVERY_SECONDS)
        super().__init__(_ListenerConfig(app, self))
        self._on_started = on_started
        self._sweeper: asyncio.Task[None] | None = None

    def admit(self) -> bool:
        """Take a slot for a new connection, or log (rate-limited) and say no."""
        if self.open < self.limits.max_connections and _Budget.admit(self):
            self.open += 1
            return True
        reason = (
            "its connection cap ([listeners] max_connections)"
            if self.open >= self.limits.max_connections
            else "the engine's share of the open-file limit (ulimit -n)"
        )
        self._refusals(
            "refused", f"{self.what} refusing new connections: at {reason}", open=self.open
        )
        return False

    def release(self) -> None:
        self.open -= 1
        _Budget.release()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().serve(sockets=sockets)
        finally:
            _Budget.listeners.discard(self)
            if self._sweeper is not None:
                self._sweeper.cancel()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        cast(_ListenerConfig, self.config).refusals.release()
        await super().shutdown(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        quiet_accept_errors(asyncio.get_running_loop())
        await super().startup(sockets=sockets)
        _Budget.listeners.add(self)
        self._sweeper = asyncio.ensure_future(self._sweep())
        self._on_started()

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = loop.time()
            stalled = [
                c
                for c in list(self.server_state.connections)
                if isinstance(c, _GuardedHttpTools) and c.stalled(now, self.limits)
            ]
            for connection in stalled:
                connection.close_stalled()
            if stalled:
                self._stalls(
                    "stalled",
                    f"{self.what} closed connections that made no progress "
                    "([listeners] header_timeout / idle_timeout)",
                    closed=len(stalled),
                )


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Replace asyncio's traceback per failed ``accept()`` (out of fds) with a rate-limited line.

    asyncio already stops accepting on that listener for a second and keeps
    serving open connections; only its log is a problem (a traceback per
    attempt). Every other exception still reaches the previous handler.
    """
    previous = loop.get_exception_handler()
    if not isinstance(previous, _QuietAcceptErrors):
        loop.set_exception_handler(_QuietAcceptErrors(previous))


class _QuietAcceptErrors:
    """The loop's exception handler while listeners run: see ``quiet_accept_errors``."""

    def __init__(
        self, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
    ) -> None:
        self._previous = previous
        self._said = RateLimitedLog(structlog.get_logger("cove.listen").warning, LOG_EVERY_SECONDS)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", ""))
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FDS and "accept" in message:
            self._said(
                "out of fds",
                "a listener cannot accept: out of file descriptors; retrying each second "
                "(raise ulimit -n or lower [listeners] max_connections)",
                error=exc.strerror,
            )
        elif self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)
