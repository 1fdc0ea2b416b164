"""MQTT transports: one broker connection per transport, MQTT 5, QoS 1 both ways.

The connection is kept by one task: connect (a persistent session under the
transport's client id, so publishes for it wait at the broker while the
engine is away), subscribe to the topic filters, read publishes, and on any
loss reconnect with doubling backoff, logging one line when an outage starts
and one when it ends. Inbound publishes are acknowledged by hand, after the
event is durable in the journal: a crash before that leaves the broker to
redeliver, and the delivery id makes the redelivery one event. A send waits
for the broker's PUBACK and reads its reason code; with no connection, no
PUBACK in time, or a PUBACK that refuses the publish, it raises
``DeliveryError`` and the outbox retries it.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ..errors import DeliveryError
from ._base import Publish, Transport, TransportCounts
from ._mqtt_codec import REPLY_TO, inbound_event, publish_properties, topic_error

INBOUND_BATCH = 256
"""Most inbound publishes journaled in one commit (those already waiting; none is held back)."""


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """Everything one MQTT transport needs; the composition root fills it from the config."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: ssl.SSLContext | None = None
    subscribe: tuple[str, ...] = ()
    session_expiry_s: int = 3600
    keepalive_s: int = 30
    timeout_s: float = 10.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0


class MqttTransport(Transport):
    """Publishes sends to the topic named by the recipient; subscribed publishes become events."""

    def __init__(self, name: str, options: MqttOptions, log: Any = None) -> None:
        self.name = name
        self._options = options
        self._log = log or structlog.get_logger("cove.mqtt")
        self._publish: Publish | None = None
        self._client: aiomqtt.Client | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pubacks: dict[int, asyncio.Future[ReasonCode]] = {}
        """Sends waiting for their PUBACK, by packet id (of the current connection)."""
        self.outages = 0
        """Connection losses so far (a failed first connect counts as one)."""
        self._counts = TransportCounts()

    @property
    def broker(self) -> str:
        return f"{self._options.host}:{self._options.port}"

    async def start(self, publish: Publish) -> None:
        self._publish = publish
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"mqtt:{self.name}"
            )

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        try:
            await self._send(recipient, body, metadata, idempotency_key)
        except DeliveryError:
            self._counts.errors += 1
            raise
        self._counts.sent += 1

    def counts(self) -> TransportCounts:
        c = self._counts
        return TransportCounts(c.sent, c.received, c.rejected, c.errors + self.outages)

    async def _send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        topics = [(recipient, "the recipient")]
        topics += [(v, "reply_to") for k, v in metadata if k == REPLY_TO]
        for topic, what in topics:
            if (why := topic_error(topic, what)) is not None:
                raise DeliveryError(f"transport {self.name!r}: {why}")
        self._ensure_running()
        client = self._client
        if client is None:
            raise DeliveryError(f"transport {self.name!r}: not connected to {self.broker}")
        pairs = list(metadata)
        if self.request_headers is not None:
            pairs.extend(self.request_headers().items())
        properties = publish_properties(pairs, idempotency_key)
        paho = _paho(client)
        info = paho.publish(recipient, body.encode(), 1, False, properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeliveryError(
                f"transport {self.name!r}: publish to {self.broker} failed: "
                f"{mqtt.error_string(info.rc)}"
            )
        puback = asyncio.get_running_loop().create_future()
        self._pubacks[info.mid] = puback
        connection = self._lost  # set when this connection ends
        lost = asyncio.ensure_future(connection.wait())
        try:
            await asyncio.wait(
                (puback, lost), timeout=self._options.timeout_s, return_when=FIRST_COMPLETED
            )
        finally:
            lost.cancel()
            self._pubacks.pop(info.mid, None)
        if not puback.done():
            why = "lost before its PUBACK" if connection.is_set() else "sent no PUBACK in time"
            raise DeliveryError(f"transport {self.name!r}: {self.broker} {why}")
        reason = puback.result()
        if reason.is_failure:
            raise DeliveryError(
                f"transport {self.name!r}: {self.broker} refused the publish to "
                f"{recipient!r}: {reason}"
            )

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        """Connect, read, reconnect; until cancelled."""
        failures = 0
        down_since: float | None = None
        while True:
            try:
                async with self._new_client() as client:
                    await self._connected(client, down_since)
                    failures, down_since = 0, None
                    async for message in client.messages:
                        batch = [message]
                        while len(client.messages) and len(batch) < INBOUND_BATCH:
                            batch.append(await anext(client.messages))
                        await self._inbound(client, batch)
            except aiomqtt.MqttError as exc:
                error = str(exc)
            except Exception as exc:  # DNS, TLS, a journal that refused: all end in a reconnect
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self._client = None
                self._lost.set()
            failures += 1
            if down_since is None:
                down_since = time.monotonic()
                self.outages += 1
                self._log.warning(
                    "mqtt connection lost; reconnecting with backoff",
                    transport=self.name,
                    broker=self.broker,
                    error=error,
                )
            await asyncio.sleep(self._backoff_s(failures))

    async def _connected(self, client: aiomqtt.Client, down_since: float | None) -> None:
        if self._options.subscribe:
            options = SubscribeOptions(qos=1, noLocal=True)
            await client.subscribe([(f, options) for f in self._options.subscribe])
        self._lost = asyncio.Event()
        self._client = client
        if down_since is not None:
            self._log.info(
                "mqtt connection back",
                transport=self.name,
                broker=self.broker,
                down_s=round(time.monotonic() - down_since, 1),
            )

    async def _inbound(self, client: aiomqtt.Client, batch: list[aiomqtt.Message]) -> None:
        """Journal publishes (all that were waiting: one commit), then acknowledge each (its
        PUBACK); one not acknowledged comes again."""
        if self._publish is None:
            return
        events = [
            inbound_event(
                self.name,
                str(m.topic),
                m.payload if isinstance(m.payload, bytes) else b"",
                m.properties,
            )
            for m in batch
        ]
        await self._publish(events)
        self._counts.received += len(events)
        paho = _paho(client)
        for message in batch:
            if message.qos > 0:
                paho.ack(message.mid, message.qos)

    def _new_client(self) -> aiomqtt.Client:
        o = self._options
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = o.session_expiry_s
        client = aiomqtt.Client(
            o.host,
            o.port,
            username=o.username,
            password=o.password,
            identifier=o.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            keepalive=o.keepalive_s,
            timeout=o.timeout_s,
            tls_context=o.tls,
            properties=connect,
        )
        paho = _paho(client)
        paho.manual_ack_set(True)
        self._pubacks = {}
        forward: Any = paho.on_publish  # aiomqtt's: it wakes its own publish calls

        def on_publish(c: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
            """aiomqtt's callback, then the PUBACK's reason code to the send that waits on it."""
            forward(c, userdata, mid, reason, properties)
            waiting = self._pubacks.pop(mid, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(reason)

        paho.on_publish = on_publish
        return client

    def _backoff_s(self, failures: int) -> float:
        o = self._options
        base = min(o.reconnect_max_s, o.reconnect_initial_s * 2 ** max(0, failures - 1))
        return float(base * random.uniform(0.8, 1.2))


def _paho(client: aiomqtt.Client) -> mqtt.Client:
    """aiomqtt's paho client: the one place that reaches it, for manual acks (PUBACK after
    journal) and for publishes that see their PUBACK's reason code (aiomqtt drops it)."""
    return client._client
