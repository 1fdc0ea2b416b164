"""A peer looping on refused requests is slowed down; nobody else is (real uvicorn listeners)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cove import Event
from cove._control._auth import BearerGuard
from cove._control._server import HttpListener
from cove._listen import ListenerLimits
from cove._sources._webhook_auth import Credentials
from cove._sources._webhook_server import WebhookServer

TOKEN = "right-token"
# two refusals at once, then one every 4 s: a parked refusal is unmistakable
LIMITS = ListenerLimits(refusal_rate=0.25, refusal_burst=2, refusal_max_delay=30.0)


@asynccontextmanager
async def _webhooks() -> AsyncIterator[int]:
    async def publish(events: Sequence[Event]) -> None:
        return None

    server = WebhookServer(
        host="127.0.0.1",
        port=0,
        max_body=4096,
        credentials=Credentials(token=TOKEN),
        limits=LIMITS,
    )
    task = asyncio.ensure_future(server.run(publish))
    await server.wait_started()
    try:
        yield server.port
    finally:
        await server.aclose()
        await task


async def _post(port: int, *, token: str | None, source: str = "127.0.0.1") -> int:
    """One request on a new connection from ``source``; the answer's status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    auth = f"authorization: Bearer {token}\r\n" if token is not None else ""
    writer.write(
        f"POST /webhooks/ping HTTP/1.1\r\nhost: 127.0.0.1\r\n{auth}"
        "content-length: 2\r\n\r\n{}".encode()
    )
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    return int(head[9:12])


async def test_a_peer_looping_on_401s_is_throttled_and_its_token_requests_are_not() -> None:
    async with _webhooks() as port:
        assert [await _post(port, token=None) for _ in range(2)] == [401, 401]
        parked = asyncio.ensure_future(_post(port, token=None))
        await asyncio.sleep(0.2)
        # the same address with the token is answered at once, while its refusal waits
        assert await _post(port, token=TOKEN) == 202
        assert not parked.done()
        assert await parked == 401


async def test_another_peers_refusals_never_throttle_a_client() -> None:
    async with _webhooks() as port:
        for _ in range(2):
            await _post(port, token=None)
        parked = asyncio.ensure_future(_post(port, token=None))
        await asyncio.sleep(0.2)
        assert await _post(port, token=TOKEN, source="127.0.0.2") == 202
        # its own refusals still have a full bucket
        assert [await _post(port, token="wrong", source="127.0.0.2") for _ in range(2)] == [
            401,
            401,
        ]
        assert not parked.done()
        assert await parked == 401


async def test_the_control_planes_refusals_are_throttled_too() -> None:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": True})

    app = BearerGuard(Starlette(routes=[Route("/v1/x", hello)]), TOKEN, "this route")
    listener = HttpListener(app, "127.0.0.1", 0, "control plane", LIMITS)
    await listener.start()

    async def get(token: str | None) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        auth = f"authorization: Bearer {token}\r\n" if token is not None else ""
        writer.write(f"GET /v1/x HTTP/1.1\r\nhost: 127.0.0.1\r\n{auth}\r\n".encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        finally:
            writer.close()
        return int(head[9:12])

    try:
        assert [await get(None) for _ in range(2)] == [401, 401]
        parked = asyncio.ensure_future(get(None))
        await asyncio.sleep(0.2)
        assert await get(TOKEN) == 200
        assert not parked.done()
        assert await parked == 401
    finally:
        await listener.aclose()


async def test_a_forwarded_for_header_cannot_give_a_peer_a_fresh_bucket() -> None:
    async with _webhooks() as port:

        async def refused(forwarded: str) -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                "POST /webhooks/ping HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                f"x-forwarded-for: {forwarded}\r\ncontent-length: 2\r\n\r\n{{}}".encode()
            )
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            finally:
                writer.close()
            return int(head[9:12])

        assert [await refused("10.0.0.1"), await refused("10.0.0.2")] == [401, 401]
        parked = asyncio.ensure_future(refused("10.0.0.3"))
        await asyncio.sleep(0.5)
        assert not parked.done()  # the address is the connection's, not the header's
        assert await parked == 401


async def test_a_listener_shutting_down_answers_its_parked_refusals_at_once() -> None:
    limits = ListenerLimits(refusal_rate=0.05, refusal_burst=1, refusal_max_delay=60.0)
    server = WebhookServer(
        host="127.0.0.1", port=0, max_body=4096, credentials=Credentials(token=TOKEN), limits=limits
    )

    async def publish(events: Sequence[Event]) -> None:
        return None

    task = asyncio.ensure_future(server.run(publish))
    await server.wait_started()
    assert await _post(server.port, token=None) == 401
    parked = asyncio.ensure_future(_post(server.port, token=None))  # would wait 20 s
    await asyncio.sleep(0.5)
    assert not parked.done()
    await asyncio.wait_for(server.aclose(), 10)  # not the 20 s the refusal had left
    await task
    assert await parked == 401
