"""An HTTP server embedded in the engine (control plane, webhooks): its port and its uvicorn.

Rejected: ``uvicorn.Server.serve()`` as it is, because it installs its own
SIGINT/SIGTERM handlers and would steal Ctrl-C from ``cove run``; and letting
uvicorn bind the port, because on failure it calls ``sys.exit``. So the
socket is bound here and the server subclass captures no signals.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator

import uvicorn


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking socket; ``OSError`` when the port cannot be had.

    Binding up front (rather than letting uvicorn do it) is what lets a taken
    port fail before the engine starts anything else.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host and says when it listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._on_started()
