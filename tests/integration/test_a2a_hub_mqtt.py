"""The A2A hub over MQTT: a question published to a real mosquitto, answered by a real
a2a-sdk agent, the answer published back on the publisher's response topic."""

from __future__ import annotations

from pathlib import Path

from cove._sources._mqtt import MqttTransport
from tests.helpers.a2a_agents import hub_module, running_agent
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.mosquitto import Broker, Collector, broker, publish

__all__ = ["broker"]  # the fixture, imported for the test below


async def test_a_question_on_a_topic_is_answered_on_its_response_topic(
    tmp_path: Path, broker: Broker
) -> None:
    transport = (
        '[[transports]]\nname = "bus"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
        f'port = {broker.port}\nclient_id = "cove-hub"\nsubscribe = ["agents/helpdesk"]\n'
    )
    collector = Collector(broker.port, ["users/#"]).start()
    try:
        with running_agent("task") as (url, heard):
            hub = hub_module(tmp_path, url)
            config = write_engine_config(tmp_path / "engine.toml", [hub], transport)
            async with running_engine(config) as engine:
                bus = engine.transports["bus"]
                assert isinstance(bus, MqttTransport)
                await wait_until(lambda: bus._client is not None, what="mqtt connected")
                publish(broker.port, "agents/helpdesk", "nobody to answer")
                publish(broker.port, "agents/helpdesk", "where is my parcel",
                        response_topic="users/alice")  # fmt: skip
                await wait_until(lambda: len(collector.got) == 1, what="the answer published")
    finally:
        collector.stop()
    assert ["where is my parcel"] == heard.texts  # a publish with no response topic is not asked
    [answer] = collector.got
    assert ("users/alice", "WHERE IS MY PARCEL") == (answer.topic, answer.body)
    assert "completed" == answer.properties["a2a-state"]
