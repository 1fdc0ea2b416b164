"""The web console: a static page that reads the API; served by the control plane.

Rejected: server-side templates. The page only shows what the API already
answers, so a static page plus a small script keeps one source of truth, and
everything it can do a script can do with the same token.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
# Only this origin's script and styles; no inline code, no framing.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def _page(request: Request) -> Response:
    return FileResponse(STATIC / "console.html", headers=_HEADERS)


async def _favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page says: answer it, no 404 in the console."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers=_HEADERS)


def console_routes() -> list[BaseRoute]:
    return [
        Route("/", _page, methods=["GET"]),
        Route("/favicon.ico", _favicon, methods=["GET"]),
        Mount("/console", StaticFiles(directory=STATIC), name="console"),
    ]
