"""The mqtt transport on a real engine against a real mosquitto broker (loopback, temp config)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho_client
import pytest
from structlog.testing import capture_logs

from cove import Engine
from cove._sources import _mqtt as mqtt_transport
from cove._sources._mqtt import MqttTransport
from cove._sources._mqtt_codec import inbound_event
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import native_counter, recorder_module, write_engine_config
from tests.helpers.mosquitto import Broker, Collector, broker, publish

__all__ = ["broker"]  # the fixture, imported for the tests below


@pytest.fixture
def collector(broker: Broker) -> Iterator[Collector]:
    client = Collector(broker.port, ["replies/#", "sink"]).start()
    yield client
    client.stop()


def _transport(port: int, subscribe: list[str]) -> str:
    return (
        "[[transports]]\n"
        'name = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
        f'port = {port}\nclient_id = "cove-test"\nsubscribe = {json.dumps(subscribe)}\n'
        'reconnect_initial = "50ms"\nreconnect_max = "200ms"\ntimeout = "2s"\n'
        '[outbox]\nretry_initial = "50ms"\nretry_max = "200ms"\n'
    )


@asynccontextmanager
async def _engine(
    tmp_path: Path,
    broker: Broker,
    *,
    subscribe: list[str],
    echo: bool = False,
    modules: list[Path] | None = None,
) -> AsyncIterator[Engine]:
    recorder = recorder_module(
        tmp_path,
        [{"kind": "message", "transport": "iot"}, {"kind": "custom", "name": "cove.message-sent"}],
        required=["store", "messaging"],
        config={"echo": echo},
    )
    config = write_engine_config(
        tmp_path / "engine.toml", [recorder, *(modules or [])], _transport(broker.port, subscribe)
    )
    async with running_engine(config) as engine:
        transport = engine.transports["iot"]
        assert isinstance(transport, MqttTransport)
        await wait_until(lambda: transport._client is not None, what="mqtt connected")
        yield engine


def _messages(engine: Engine) -> list[dict[str, Any]]:
    return state_json(engine, "recorder", "messages") or []


async def test_a_publish_on_a_wildcard_filter_is_a_message_and_the_reply_is_published(
    tmp_path: Path, broker: Broker, collector: Collector
) -> None:
    async with _engine(tmp_path, broker, subscribe=["sensors/+/temp"], echo=True) as engine:
        publish(broker.port, "sensors/kitchen/humidity", "40")  # outside the filter
        publish(broker.port, "sensors/kitchen/temp", "21.5", response_topic="replies/kitchen")
        await wait_until(lambda: len(_messages(engine)) == 1, what="message handled")
        assert {
            "sender": "replies/kitchen",
            "recipient": "sensors/kitchen/temp",
            "body": "21.5",
            "metadata": [],
        } == _messages(engine)[0]
        await wait_until(lambda: collector.bodies() == ["echo: 21.5"], what="reply at broker")
        reply = collector.got[0]
        assert "replies/kitchen" == reply.topic
        assert reply.properties["delivery-id"].startswith("recorder:")
        assert 1 == len(_messages(engine))


async def test_a_redelivered_publish_is_journaled_once(tmp_path: Path, broker: Broker) -> None:
    async with _engine(tmp_path, broker, subscribe=["in/#"]) as engine:
        head = engine.store.head()
        publish(broker.port, "in/a", "first", delivery_id="d-1")
        publish(broker.port, "in/a", "first", delivery_id="d-1")  # the sender's retry
        publish(broker.port, "in/a", "second", delivery_id="d-2")
        await wait_until(lambda: len(_messages(engine)) == 2, what="two messages")
        assert ["first", "second"] == [m["body"] for m in _messages(engine)]
        ids = [e.event.id for e in engine.store.read(head, 10)]
        assert ["message:iot:d-1", "message:iot:d-2"] == ids


async def test_a_module_gets_the_confirmation_of_its_send_and_no_other_module_does(
    tmp_path: Path, broker: Broker, collector: Collector
) -> None:
    bystander = native_counter(tmp_path, "bystander", "iot", subscribe="cove.*")
    async with _engine(
        tmp_path, broker, subscribe=["in/#"], echo=True, modules=[bystander]
    ) as engine:
        publish(broker.port, "in/x", "ping", response_topic="replies/x", delivery_id="p-1")
        await wait_until(
            lambda: state_json(engine, "recorder", "sent") is not None, what="confirmation"
        )
        [sent] = state_json(engine, "recorder", "sent")
        assert "iot" == sent["transport"]
        assert "replies/x" == sent["recipient"]
        assert sent["key"] == collector.got[0].properties["delivery-id"]
        assert ("message:iot:p-1", 0) == (sent["event_id"], sent["index"])
        assert state_json(engine, "bystander", "count") is None


async def test_sends_while_the_broker_is_down_are_delivered_after_it_returns(
    tmp_path: Path, broker: Broker, collector: Collector
) -> None:
    """The broker stops mid-stream: every send arrives once it is back (the outbox retries)."""
    counter = native_counter(tmp_path, "counter", "iot")
    with capture_logs() as logs:
        await _restart_mid_stream(tmp_path, broker, collector, counter)
    lost = [e for e in logs if e["event"] == "mqtt connection lost; reconnecting with backoff"]
    back = [e for e in logs if e["event"] == "mqtt connection back"]
    assert 1 == len(lost) == len(back)  # one line when the outage starts, one when it ends
    assert (f"127.0.0.1:{broker.port}", "iot") == (lost[0]["broker"], lost[0]["transport"])


async def _restart_mid_stream(
    tmp_path: Path, broker: Broker, collector: Collector, counter: Path
) -> None:
    async with _engine(tmp_path, broker, subscribe=[], modules=[counter]) as engine:
        transport = engine.transports["iot"]
        assert isinstance(transport, MqttTransport)
        await engine.publish([probe_event("send") for _ in range(5)])
        await wait_until(lambda: len(collector.bodies()) == 5, what="first five")
        broker.stop()
        await engine.publish([probe_event("send") for _ in range(5)])
        await wait_until(lambda: engine.outbox.failures["iot"] > 0, what="a failed send")
        broker.start()  # the collector's own loop reconnects to it
        await wait_until(lambda: len(collector.bodies()) >= 10, timeout=30, what="all ten")
        assert [f"counter:{n}" for n in range(1, 11)] == sorted(
            set(collector.bodies()), key=lambda b: int(b.split(":")[1])
        )
        assert 1 == transport.outages
        ids = [e.event.id for e in engine.store.read(0, 1000)]
        assert not [i for i in ids if i.startswith("sent:")]  # counter takes no confirmations


async def test_publishes_while_the_engine_is_away_arrive_when_it_is_back(
    tmp_path: Path, broker: Broker
) -> None:
    """The broker keeps the engine's session (clean_start off): nothing published meanwhile is lost."""
    async with _engine(tmp_path, broker, subscribe=["in/#"]):
        pass
    publish(broker.port, "in/a", "while away", delivery_id="w-1")
    async with _engine(tmp_path, broker, subscribe=["in/#"]) as engine:
        await wait_until(lambda: len(_messages(engine)) == 1, what="the queued publish")
        assert "while away" == _messages(engine)[0]["body"]


async def test_a_publish_the_broker_redelivers_after_a_crash_before_its_puback_is_one_event(
    tmp_path: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run journals the publish but never acknowledges it (as if it crashed right
    after the commit); the broker sends it again to the next run, which journals it once."""
    with monkeypatch.context() as crash:
        crash.setattr(paho_client.Client, "ack", lambda self, mid, qos: None)
        async with _engine(tmp_path, broker, subscribe=["in/#"]) as engine:
            publish(broker.port, "in/a", "first", delivery_id="r-1")
            await wait_until(lambda: len(_messages(engine)) == 1, what="journaled, no PUBACK")
    seen: list[str] = []

    def spy(transport: str, topic: str, payload: bytes, properties: Any) -> Any:
        seen.append(payload.decode())
        return inbound_event(transport, topic, payload, properties)

    monkeypatch.setattr(mqtt_transport, "inbound_event", spy)
    async with _engine(tmp_path, broker, subscribe=["in/#"]) as engine:
        publish(broker.port, "in/a", "second", delivery_id="r-2")
        await wait_until(lambda: len(_messages(engine)) == 2, what="the next publish")
        assert ["first", "second"] == seen  # the broker did deliver "first" again
        assert ["first", "second"] == [m["body"] for m in _messages(engine)]
