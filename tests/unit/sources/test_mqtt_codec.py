"""A cove message as an MQTT 5 publish and back: delivery ids, metadata, topics."""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cove._events import Message
from cove._sources._mqtt_codec import inbound_event, publish_properties, topic_error


def test_a_send_carries_its_delivery_id_then_its_metadata() -> None:
    properties = publish_properties([("thread", "7"), ("thread", "8")], "bot:e1:0")
    assert [("delivery-id", "bot:e1:0"), ("thread", "7"), ("thread", "8")] == (
        properties.UserProperty
    )


def test_reply_to_is_the_response_topic_not_a_user_property() -> None:
    properties = publish_properties([("reply_to", "a/inbox"), ("k", "v")], "bot:e1:0")
    assert "a/inbox" == properties.ResponseTopic
    assert [("delivery-id", "bot:e1:0"), ("k", "v")] == properties.UserProperty


def test_a_long_key_travels_as_its_digest() -> None:
    [(_, delivery)] = publish_properties([], "k" * 300).UserProperty
    assert delivery.startswith("msg_") and len(delivery) == 36


def test_a_publish_with_a_delivery_id_has_a_stable_event_id() -> None:
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = [("delivery-id", "d-1"), ("k", "v")]
    properties.ResponseTopic = "replies/me"
    first = inbound_event("iot", "in/a", b"hi", properties)
    again = inbound_event("iot", "in/a", b"hi", properties)
    assert "message:iot:d-1" == first.id == again.id
    assert Message("iot", "replies/me", "in/a", "hi", (("k", "v"),)) == first.payload


def test_a_publish_without_one_gets_a_fresh_id_and_bad_utf8_is_replaced() -> None:
    first = inbound_event("iot", "t", b"\xff", None)
    assert first.id != inbound_event("iot", "t", b"\xff", None).id
    assert isinstance(first.payload, Message)
    assert ("", "\ufffd") == (first.payload.sender, first.payload.body)


@pytest.mark.parametrize(
    ("topic", "problem"),
    [("", "empty"), ("a/+/b", "wildcard"), ("a/#", "wildcard"), ("a\0b", "not a topic")],
)
def test_a_recipient_must_be_one_topic(topic: str, problem: str) -> None:
    assert problem in (topic_error(topic) or "")


def test_a_plain_topic_is_fine() -> None:
    assert topic_error("sensors/kitchen/temp") is None
