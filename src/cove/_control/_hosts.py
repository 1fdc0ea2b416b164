"""The Host-header check in front of every route of a listener: DNS rebinding gets 421.

A page on ``attacker.example`` whose name an attacker re-points at 127.0.0.1
can make a browser send requests to a loopback listener under its own name;
same-origin rules then let the page read the answers. Refusing any Host that
is not one of the listener's names closes that path. Rejected: a check per
route (the MCP SDK does its own for /mcp), which a new route could forget.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .._config_base import is_loopback

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_name(header: str) -> str:
    """The name in a Host header, without its port or IPv6 brackets, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_names(listen_host: str, extra: Iterable[str]) -> frozenset[str] | None:
    """The Host names a listener answers; None: any (off loopback with none configured)."""
    names = frozenset(name.lower() for name in extra)
    if is_loopback(listen_host):
        return LOOPBACK_NAMES | names | {listen_host.lower()}
    return names | {listen_host.lower()} if names else None


class HostGuard:
    """ASGI middleware: a request whose Host is not one of ``allowed`` gets 421."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self._app = app
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._allowed is not None:
            given = Headers(scope=scope).get("host", "")
            if host_name(given) not in self._allowed:
                message = (
                    f"Host {given!r} is not a name of this listener; allowed: "
                    f"{sorted(self._allowed)} ([control] allowed_hosts)"
                )
                await JSONResponse({"error": message, "status": 421}, 421)(scope, receive, send)
                return
        await self._app(scope, receive, send)
