"""The webhook server: uvicorn serving the inbound app inside the engine's event loop.

The port is claimed up front (a clear ``SourceError`` if it is taken); why
the server is embedded this way is in ``cove._listen``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Collection
from typing import Any

import structlog

from .._listen import EmbeddedServer, ListenerLimits, listen_socket
from ..errors import SourceError
from ._base import Publish, Source
from ._webhook_app import inbound_app
from ._webhook_auth import Credentials


class WebhookServer(Source):
    """Accepts inbound messages and webhooks over HTTP until ``aclose``."""

    name = "webhook"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        max_body: int,
        credentials: Credentials,
        max_in_flight: int | None = None,
        body_timeout: float = 10.0,
        transports: Collection[str] = (),
        limits: ListenerLimits | None = None,
        log: Any = None,
    ) -> None:
        self.host = host
        self.port = port
        self.transports = frozenset(transports)
        self._max_body = max_body
        self._max_in_flight = max_in_flight
        self._body_timeout = body_timeout
        self._credentials = credentials
        self.limits = limits or ListenerLimits()
        self._log = log or structlog.get_logger("cove.webhook")
        self._server: EmbeddedServer | None = None
        self._started = asyncio.Event()
        self._finished = asyncio.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once listening (the real port when configured as 0)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def wait_started(self) -> str:
        """Wait until the server listens (or failed to); returns its URL."""
        started = asyncio.ensure_future(self._started.wait())
        finished = asyncio.ensure_future(self._finished.wait())
        await asyncio.wait([started, finished], return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        finished.cancel()
        if not self._started.is_set():
            raise SourceError(f"webhook server did not start: {self._failure!r}")
        return self.url

    async def run(self, publish: Publish) -> None:
        sock: socket.socket | None = None
        try:
            sock = self._bind()
            app = inbound_app(
                publish,
                transports=self.transports,
                credentials=self._credentials,
                max_body=self._max_body,
                max_in_flight=self._max_in_flight,
                body_timeout=self._body_timeout,
                log=self._log,
            )
            self._server = EmbeddedServer(
                app, self._on_started, limits=self.limits, what="webhook server"
            )
            await self._server.serve(sockets=[sock])
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            # A cancelled serve() never reached its shutdown: close what it opened.
            for server in getattr(self._server, "servers", []):
                server.close()
            if sock is not None:
                sock.close()
            self._finished.set()

    def _on_started(self) -> None:
        self._started.set()
        self._log.info("webhook server listening", url=self.url, transports=sorted(self.transports))

    def _bind(self) -> socket.socket:
        try:
            sock = listen_socket(self.host, self.port, self.limits.backlog)
        except OSError as exc:
            raise SourceError(
                f"webhook server cannot listen on {self.host}:{self.port}: {exc.strerror}; "
                "choose another [webhook] port (0 picks a free one) or host"
            ) from None
        self.port = sock.getsockname()[1]
        return sock

    async def aclose(self) -> None:
        """Stop accepting, let in-flight requests finish, release the port."""
        if self._server is not None and not self._finished.is_set():
            self._server.should_exit = True
            await self._finished.wait()
