"""A response's head and body leave in one write (one send syscall, not two)."""

from __future__ import annotations

import asyncio
from typing import Any

from cove._coalesce import CoalescingTransport


class _Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", b""))

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


async def test_a_head_and_its_body_are_one_write() -> None:
    inner = _Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
    transport.write(b'{"id":"x"}')
    assert inner.calls == [("write", b'HTTP/1.1 202 Accepted\r\n\r\n{"id":"x"}')]
    await asyncio.sleep(0)
    assert len(inner.calls) == 1


async def test_a_lone_write_leaves_on_the_next_loop_turn() -> None:
    inner = _Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"data: 1\n\n")
    assert inner.calls == []
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert inner.calls == [("write", b"data: 1\n\n")]


async def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    inner = _Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"head")
    transport.close()
    assert inner.calls == [("write", b"head"), ("close", b"")]
    other = _Recorder()
    transport = CoalescingTransport(other, asyncio.get_running_loop())
    transport.write(b"head")
    transport.abort()
    await asyncio.sleep(0)
    assert other.calls == [("abort", b"")]


async def test_everything_else_is_the_transports() -> None:
    inner = _Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)
    assert not transport.is_closing()
