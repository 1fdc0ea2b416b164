"""Request bodies read as they stream in, capped: the control plane and the webhook server
both refuse a body past their limit without ever holding more of it than the limit."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The whole body, or None once it is known to exceed ``limit`` bytes (a declared
    Content-Length past it, or the bytes received so far). A client that disconnects
    mid-body raises starlette's ``ClientDisconnect``: each caller answers that its own way."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_capped(receive: Receive, limit: int) -> bytes | None:
    """``read_capped`` straight from the ASGI ``receive``, for an app without a ``Request``
    (the webhook ingress); its caller has checked any declared Content-Length.

    A body that came in one message (a webhook's, usually) is returned as is.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        if not message.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)
