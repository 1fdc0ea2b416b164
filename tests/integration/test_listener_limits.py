"""Every embedded listener holds against careless clients: caps, timeouts, TCP_NODELAY (a real uvicorn)."""

from __future__ import annotations

import asyncio
import select
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from cove import Event
from cove._listen import ListenerLimits, listen_socket
from cove._sources._webhook_auth import Credentials
from cove._sources._webhook_server import WebhookServer

REQUEST = b"POST /webhooks/ping HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}"


@asynccontextmanager
async def _server(
    limits: ListenerLimits | None = None,
) -> AsyncIterator[tuple[WebhookServer, list[Event]]]:
    journaled: list[Event] = []

    async def publish(events: Sequence[Event]) -> None:
        journaled.extend(events)

    server = WebhookServer(
        host="127.0.0.1", port=0, max_body=4096, credentials=Credentials(), limits=limits
    )
    task = asyncio.ensure_future(server.run(publish))
    await server.wait_started()
    try:
        yield server, journaled
    finally:
        await server.aclose()
        await task


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _response(sock: socket.socket) -> bytes:
    """One whole response (headers and the content-length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


async def _closed_by_server(sock: socket.socket, within: float = 15.0) -> bool:
    """True once the server closes ``sock`` (recv sees EOF or a reset)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            try:
                if sock.recv(4096) == b"":
                    return True
            except ConnectionResetError:
                return True
        await asyncio.sleep(0.1)
    return False


async def test_accepted_connections_have_tcp_nodelay() -> None:
    """Without it each keep-alive response after the first waits for the client's delayed ACK."""
    async with _server() as (server, _):
        with _connect(server.port) as sock:
            sock.sendall(REQUEST)
            await asyncio.to_thread(_response, sock)
            assert server._server is not None
            (connection,) = server._server.server_state.connections
            accepted = connection.transport.get_extra_info("socket")
            assert 1 == accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_a_connection_that_never_sends_is_closed() -> None:
    """With the default limits: an idle connection before any request does not stay open forever."""
    async with _server() as (server, _):
        with _connect(server.port) as sock:
            assert await _closed_by_server(sock)
        assert server._server is not None
        assert 0 == len(server._server.server_state.connections)


async def test_headers_dribbled_a_byte_at_a_time_are_cut_off() -> None:
    """Slowloris: progress alone does not keep a connection whose headers never finish."""
    limits = ListenerLimits(header_timeout=1.0, idle_timeout=1.0)
    async with _server(limits) as (server, _):
        with _connect(server.port) as sock:
            sock.sendall(b"POST /webhooks/ping HTTP/1.1\r\n")
            closed = False
            for _ in range(200):  # 20 s of one header byte every 0.1 s
                try:
                    sock.sendall(b"x")
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if await _closed_by_server(sock, within=0.1):
                    closed = True
                    break
            assert closed


async def test_a_stalled_body_is_closed_and_nothing_is_journaled() -> None:
    limits = ListenerLimits(idle_timeout=1.0)
    async with _server(limits) as (server, journaled):
        with _connect(server.port) as sock:
            sock.sendall(
                b"POST /webhooks/ping HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789"
            )
            assert await _closed_by_server(sock)
        assert [] == journaled


async def test_past_the_cap_new_connections_are_refused_and_open_ones_still_served() -> None:
    limits = ListenerLimits(max_connections=4)
    async with _server(limits) as (server, journaled):
        held = [_connect(server.port) for _ in range(4)]
        try:
            for sock in held:
                sock.sendall(REQUEST)
                assert b" 202 " in await asyncio.to_thread(_response, sock)
            with _connect(server.port) as extra:
                extra.sendall(REQUEST)
                refused = await asyncio.to_thread(_response, extra)
                assert refused.startswith(b"HTTP/1.1 503 ")
                assert await _closed_by_server(extra)
            for sock in held:  # keep-alive: a second request on each open connection
                sock.sendall(REQUEST)
                assert b" 202 " in await asyncio.to_thread(_response, sock)
        finally:
            for sock in held:
                sock.close()
        assert 8 == len(journaled)


def test_the_listening_socket_says_tcp_so_asyncio_sets_nodelay_on_accepted_ones() -> None:
    with listen_socket("127.0.0.1", 0) as sock:
        assert socket.IPPROTO_TCP == sock.proto


def _responses(sock: socket.socket) -> list[bytes]:
    """Every response until the server closes the connection (a reset, if it left bytes unread)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return [part for part in data.split(b"HTTP/1.1 ")[1:]]


async def test_headers_past_16_kib_get_400_and_the_connection_is_closed() -> None:
    """A header section is held whole until it ends: its size is bounded, not only its time."""
    async with _server() as (server, journaled):
        with _connect(server.port) as sock:
            head = b"POST /webhooks/ping HTTP/1.1\r\nhost: x\r\n"
            filler = b"".join(b"x-filler-%d: %s\r\n" % (n, b"y" * 100) for n in range(200))
            sock.sendall(head + filler + b"content-length: 2\r\n\r\n{}")
            answers = await asyncio.to_thread(_responses, sock)
        assert [b"400"] == [a[:3] for a in answers]
        assert [] == journaled


async def test_a_few_pipelined_requests_are_answered_in_order() -> None:
    async with _server() as (server, journaled):
        with _connect(server.port) as sock:
            sock.sendall(
                REQUEST * 4 + b"GET /nowhere HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            )
            answers = await asyncio.to_thread(_responses, sock)
        assert [b"202"] * 4 + [b"404"] == [a[:3] for a in answers]
        assert 4 == len(journaled)


async def test_thousands_of_requests_pipelined_in_one_write_are_cut_off() -> None:
    """Each queued request holds a parsed request; a client that never reads cannot queue thousands."""
    async with _server() as (server, journaled):
        with _connect(server.port) as sock:
            sock.sendall(REQUEST * 5000)
            answers = await asyncio.to_thread(_responses, sock)
        assert len(answers) <= 64
        assert len(journaled) <= 64
