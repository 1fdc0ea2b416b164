"""An mqtt transport over TLS to a real mosquitto: the broker verified by ca_file, or refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove._sources._mqtt import MqttTransport
from tests.helpers.engine import probe_event, running_engine, wait_until
from tests.helpers.modules import native_counter, write_engine_config
from tests.helpers.mosquitto import Broker
from tests.helpers.tls_certs import write_ca_and_server


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, Path]]:
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    ca, cert, key = write_ca_and_server(directory)
    server = Broker(directory, tls=(cert, key))
    server.start()
    yield server, ca
    server.stop()


def _config(tmp_path: Path, port: int, ca_file: Path | None) -> Path:
    counter = native_counter(tmp_path, "counter", "iot")
    extra = (
        "[[transports]]\n"
        'name = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
        f'port = {port}\nclient_id = "cove-tls"\ntls = true\n'
        + (f'ca_file = "{ca_file}"\n' if ca_file is not None else "")
        + 'reconnect_initial = "50ms"\nreconnect_max = "200ms"\n'
        '[outbox]\nretry_initial = "50ms"\nretry_max = "200ms"\n'
    )
    return write_engine_config(tmp_path / "engine.toml", [counter], extra)


async def test_a_broker_verified_by_ca_file_takes_sends_over_tls(
    tmp_path: Path, tls_broker: tuple[Broker, Path]
) -> None:
    broker, ca = tls_broker
    async with running_engine(_config(tmp_path, broker.port, ca)) as engine:
        await engine.publish([probe_event("send")])
        await wait_until(lambda: engine.outbox.delivered == 1, what="send acknowledged")


# paho-mqtt 2.2.0 drops the socket of a failed TLS handshake without closing it; the
# garbage collector closes it (a ResourceWarning, not a leaked descriptor).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_a_broker_whose_certificate_does_not_verify_is_an_outage(
    tmp_path: Path, tls_broker: tuple[Broker, Path]
) -> None:
    broker, _ = tls_broker
    with capture_logs() as logs:
        async with running_engine(_config(tmp_path, broker.port, None)) as engine:
            transport = engine.transports["iot"]
            assert isinstance(transport, MqttTransport)
            await wait_until(lambda: transport.outages == 1, what="the outage")
            await engine.publish([probe_event("send")])
            await wait_until(lambda: engine.outbox.failures["iot"] >= 1, what="send refused")
            assert 0 == engine.outbox.delivered
    [lost] = [e for e in logs if e["event"].startswith("mqtt connection lost")]
    assert "CERTIFICATE_VERIFY_FAILED" in lost["error"]
