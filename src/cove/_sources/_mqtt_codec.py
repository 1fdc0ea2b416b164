"""How a cove message maps onto an MQTT 5 publish, both ways (no I/O).

Out: the recipient is the topic, the body the payload, a ``reply_to``
metadata pair the response topic, every other pair a user property, and a
``delivery-id`` user property carries the send's idempotency key (or its
digest), the same on every retry. In: a publish with
a ``delivery-id`` becomes the event ``message:<transport>:<delivery-id>``, so
a redelivery (the broker's, or a sender's retry) is journaled once; the
topic is the recipient and the publish's response topic the sender, so a
reply goes where the publisher listens.
"""

from __future__ import annotations

from collections.abc import Sequence

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .._events import Event, Message
from ._webhook_auth import delivery_id_for, parse_delivery_id

DELIVERY_PROPERTY = "delivery-id"
REPLY_TO = "reply_to"


def topic_error(topic: str, what: str = "the recipient") -> str | None:
    """Why ``topic`` cannot be published to, or None (wildcards belong to filters only)."""
    if not topic:
        return f"{what} (topic) is empty"
    if "+" in topic or "#" in topic:
        return f"{what} {topic!r} has a wildcard; a publish needs one topic"
    if "\0" in topic or len(topic.encode()) > 65_535:
        return f"{what} {topic[:80]!r} is not a topic name"
    return None


def publish_properties(metadata: Sequence[tuple[str, str]], idempotency_key: str) -> Properties:
    """A send's properties: the last ``reply_to`` as its response topic; user properties
    its delivery id first, then the other metadata pairs in order."""
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = [
        (DELIVERY_PROPERTY, delivery_id_for(idempotency_key)),
        *((str(k), str(v)) for k, v in metadata if k != REPLY_TO),
    ]
    if reply_to := [v for k, v in metadata if k == REPLY_TO]:
        properties.ResponseTopic = reply_to[-1]
    return properties


def inbound_event(
    transport: str, topic: str, payload: bytes, properties: Properties | None
) -> Event:
    """The ``message`` event of one inbound publish (a payload not UTF-8 is decoded with U+FFFD)."""
    pairs: list[tuple[str, str]] = []
    sender = ""
    if properties is not None:
        pairs = [(str(k), str(v)) for k, v in getattr(properties, "UserProperty", [])]
        sender = str(getattr(properties, "ResponseTopic", ""))
    delivery = next((v for k, v in pairs if k == DELIVERY_PROPERTY), None)
    message = Message(
        transport=transport,
        sender=sender,
        recipient=topic,
        body=payload.decode("utf-8", "replace"),
        metadata=tuple((k, v) for k, v in pairs if k != DELIVERY_PROPERTY),
    )
    if delivery is not None and parse_delivery_id(delivery) is not None:
        return Event(message, id=f"message:{transport}:{delivery}")
    return Event(message)
