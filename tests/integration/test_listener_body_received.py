"""A listener tells its app when a request's whole body is already in (a real uvicorn).

The webhook ingress skips arming its body deadline for such a request, so
the flag must never be set while the client still owes bytes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import Receive, Scope, Send

from cove._listen import EmbeddedServer, ListenerLimits, body_received, listen_socket


@asynccontextmanager
async def _server(seen: list[bool]) -> AsyncIterator[int]:
    """A listener whose app records the flag, then reads the body and answers 200."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(body_received(scope))
        while (await receive()).get("more_body", False):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sock = listen_socket("127.0.0.1", 0)
    started = asyncio.Event()
    server = EmbeddedServer(app, started.set, limits=ListenerLimits(), what="test listener")
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    await started.wait()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _answer(sock: socket.socket) -> bytes:
    return await asyncio.to_thread(sock.recv, 4096)


async def test_a_body_sent_with_its_headers_is_flagged_received() -> None:
    seen: list[bool] = []
    async with _server(seen) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
            assert (await _answer(sock)).startswith(b"HTTP/1.1 200 ")
            sock.sendall(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
            assert (await _answer(sock)).startswith(b"HTTP/1.1 200 ")
    assert [True, True] == seen


async def test_a_body_still_owed_is_not_flagged() -> None:
    seen: list[bool] = []
    async with _server(seen) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{")
            await asyncio.sleep(0.3)  # the app runs once the headers are in
            assert [False] == seen
            sock.sendall(b"}")
            assert (await _answer(sock)).startswith(b"HTTP/1.1 200 ")
            # The next request on the connection starts unflagged again.
            sock.sendall(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n[")
            await asyncio.sleep(0.3)
            sock.sendall(b"]")
            assert (await _answer(sock)).startswith(b"HTTP/1.1 200 ")
    assert [False, False] == seen
