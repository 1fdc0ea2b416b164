"""An HTTP listener (uvicorn) inside the engine's event loop.

The port is claimed up front (a clear ``ControlError`` if it is taken); why
the server is embedded this way is in ``cove._listen``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from starlette.types import ASGIApp

from .._listen import EmbeddedServer, ListenerLimits, listen_socket
from ..errors import ControlError


class HttpListener:
    """Serve one ASGI app on ``host:port`` until ``aclose``; ``what`` names it in errors."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, what: str, limits: ListenerLimits
    ) -> None:
        self.host = host
        self.port = port
        self.what = what
        self.limits = limits
        self._listening = asyncio.Event()
        self._server = EmbeddedServer(app, self._listening.set, limits=limits, what=what)
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` (the real port when configured as 0)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Serve on the socket ``bind`` opened; returns once it accepts connections."""
        sock = self._socket if self._socket is not None else self.bind()
        self._task = asyncio.ensure_future(self._serve(sock))
        listening = asyncio.ensure_future(self._listening.wait())
        await asyncio.wait([self._task, listening], return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if not self._listening.is_set():
            exc = self._task.exception()
            raise ControlError(f"{self.what} did not start: {exc!r}")

    async def _serve(self, sock: socket.socket) -> None:
        try:
            await self._server.serve(sockets=[sock])
        finally:
            # A cancelled serve() never reached its shutdown: close what it opened.
            for server in getattr(self._server, "servers", []):
                server.close()
            sock.close()

    def bind(self) -> socket.socket:
        """Claim the port now, so a taken one fails before the engine starts anything."""
        try:
            sock = listen_socket(self.host, self.port, self.limits.backlog)
        except OSError as exc:
            raise ControlError(
                f"{self.what} cannot listen on {self.host}:{self.port}: {exc.strerror}; "
                "choose another port (0 picks a free one) or host"
            ) from None
        self.port = sock.getsockname()[1]
        self._socket = sock
        return sock

    async def aclose(self) -> None:
        """Stop accepting, let in-flight requests finish, release the port."""
        if self._task is None:
            self.close_socket()
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def close_socket(self) -> None:
        """Release a port that was bound but never served."""
        if self._socket is not None and self._task is None:
            self._socket.close()
