"""An mqtt transport that logs in: the password comes from [secrets], and never shows in a log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove import load_config
from cove._app import App
from cove._sources._mqtt import MqttTransport
from cove.errors import ConfigError
from tests.helpers.engine import probe_event, running_engine, wait_until
from tests.helpers.modules import native_counter, write_engine_config
from tests.helpers.mosquitto import Broker

PASSWORD = "pw-for-the-broker-9f3c"


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[Broker]:
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    server = Broker(directory, users={"cove": PASSWORD})
    server.start()
    yield server
    server.stop()


def _config(tmp_path: Path, port: int) -> Path:
    counter = native_counter(tmp_path, "counter", "iot")
    extra = (
        "[[transports]]\n"
        'name = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
        f'port = {port}\nclient_id = "cove-auth"\nusername = "cove"\npassword_secret = "mqtt"\n'
        'reconnect_initial = "50ms"\nreconnect_max = "200ms"\n'
        '[outbox]\nretry_initial = "50ms"\nretry_max = "200ms"\n'
        '[secrets.mqtt]\nenv = "COVE_TEST_MQTT_PASSWORD"\n'
    )
    return write_engine_config(tmp_path / "engine.toml", [counter], extra)


async def test_the_password_from_secrets_logs_in_and_sends_are_acknowledged(
    tmp_path: Path, locked_broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVE_TEST_MQTT_PASSWORD", PASSWORD)
    async with running_engine(_config(tmp_path, locked_broker.port)) as engine:
        await engine.publish([probe_event("send")])
        await wait_until(lambda: engine.outbox.delivered == 1, what="send acknowledged")


async def test_a_wrong_password_is_one_outage_line_that_never_shows_the_password(
    tmp_path: Path, locked_broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-password-41aa"
    monkeypatch.setenv("COVE_TEST_MQTT_PASSWORD", wrong)
    with capture_logs() as logs:
        async with running_engine(_config(tmp_path, locked_broker.port)) as engine:
            transport = engine.transports["iot"]
            assert isinstance(transport, MqttTransport)
            await engine.publish([probe_event("send")])
            await wait_until(lambda: engine.outbox.failures["iot"] >= 2, what="sends refused")
            assert 0 == engine.outbox.delivered
            assert 1 == transport.outages
    [lost] = [e for e in logs if e["event"].startswith("mqtt connection lost")]
    assert "authoriz" in lost["error"].lower()
    assert not [e for e in logs if wrong in repr(e)]


def test_a_password_secret_that_is_not_set_stops_the_engine_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COVE_TEST_MQTT_PASSWORD", raising=False)
    config = load_config(_config(tmp_path, 1883))
    with pytest.raises(ConfigError, match=r"secrets\.mqtt\.env: .*COVE_TEST_MQTT_PASSWORD"):
        App(config)


async def test_a_publish_the_broker_refuses_in_its_puback_is_not_delivered(
    tmp_path: Path,
) -> None:
    """A PUBACK with a failure reason (0x87 not authorized) is a failed send, retried."""
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    broker = Broker(directory, acl="topic read #\n")  # anonymous may read, not write
    broker.start()
    try:
        counter = native_counter(tmp_path, "counter", "iot")
        extra = (
            "[[transports]]\n"
            'name = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
            f'port = {broker.port}\nclient_id = "cove-acl"\n'
            '[outbox]\nretry_initial = "50ms"\nretry_max = "200ms"\n'
        )
        config = write_engine_config(tmp_path / "engine.toml", [counter], extra)
        with capture_logs() as logs:
            async with running_engine(config) as engine:
                await engine.publish([probe_event("send")])
                await wait_until(lambda: engine.outbox.failures["iot"] >= 1, what="refused")
                assert 0 == engine.outbox.delivered
        [failed, *_] = [e for e in logs if e["event"] == "outbox delivery failed"]
        assert "Not authorized" in failed["error"]
    finally:
        broker.stop()
