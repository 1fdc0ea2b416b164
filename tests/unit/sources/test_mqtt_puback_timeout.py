"""A send to a broker that never answers its PUBACK fails saying so (a stub broker on loopback).

The stub accepts the connection (CONNACK) and then reads and ignores every
packet: a real broker cannot be made to hold back one PUBACK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from cove._events import Event
from cove._sources._mqtt import MqttOptions, MqttTransport
from cove.errors import DeliveryError

CONNACK_V5 = bytes([0x20, 0x03, 0x00, 0x00, 0x00])  # session not present, success, no properties


async def _silent_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)  # CONNECT
    writer.write(CONNACK_V5)
    await writer.drain()
    while await reader.read(1024):
        pass  # PUBLISH and PINGREQ: never answered
    writer.close()


async def _nothing(events: Sequence[Event]) -> None:
    return None


async def test_a_send_without_a_puback_in_time_says_so() -> None:
    server = await asyncio.start_server(_silent_broker, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    options = MqttOptions(host="127.0.0.1", port=port, client_id="stub", timeout_s=0.3)
    transport = MqttTransport("iot", options)
    try:
        await transport.start(_nothing)
        for _ in range(200):
            if transport._client is not None:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:\d+ sent no PUBACK in time"):
            await transport.send("out/a", "hi", [], "m:e:0")
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
