"""Claiming a TCP port for an HTTP server embedded in the engine (control plane, webhooks)."""

from __future__ import annotations

import socket


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
