"""A ``kind = "mqtt"`` transport in the engine config: accepted keys, and refusals that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._config import load_config
from cove._config_mqtt import MqttTransportSettings
from cove.errors import ConfigError

BASE = '[[transports]]\nname = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\nclient_id = "c1"\n'


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return load_config(path)


def test_an_mqtt_transport_takes_its_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, BASE + 'subscribe = ["a/+/c", "b/#", "#"]\n')
    [iot] = config.transports  # type: ignore[attr-defined]
    assert isinstance(iot, MqttTransportSettings)
    assert (1883, False, ["a/+/c", "b/#", "#"], "1h") == (
        iot.port,
        iot.tls,
        iot.subscribe,
        iot.session_expiry,
    )


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ('subscribe = ["a/#/b"]\n', "transports[0].subscribe", "'#' must be the last level"),
        ('subscribe = ["a/b+"]\n', "transports[0].subscribe", "a wildcard must be a whole level"),
        ("port = 0\n", "transports[0].port", "greater than or equal to 1"),
        ('password_secret = "mqtt"\n', "transports[0]", "password_secret needs username"),
        ('ca_file = "ca.pem"\n', "transports[0]", "ca_file needs tls = true"),
        ('keepalive = "soon"\n', "transports[0].keepalive", "soon"),
        ('url = "http://x"\n', "transports[0].url", "unknown key"),
    ],
    ids=[
        "hash-not-last",
        "partial-wildcard",
        "port",
        "password-no-user",
        "ca-no-tls",
        "duration",
        "webhook-key",
    ],
)
def test_a_bad_mqtt_transport_is_refused_naming_the_key(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, BASE + extra)
    message = str(caught.value)
    assert str(tmp_path / "engine.toml") in message
    assert key in message
    assert reason in message


def test_a_password_secret_must_name_a_secrets_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"transports.iot.password_secret: no \[secrets.mqtt\]"):
        _load(tmp_path, BASE + 'username = "cove"\npassword_secret = "mqtt"\n')


def test_a_transport_without_client_id_is_refused(tmp_path: Path) -> None:
    text = '[[transports]]\nname = "iot"\nkind = "mqtt"\nhost = "127.0.0.1"\n'
    with pytest.raises(ConfigError, match=r"transports\[0\]\.client_id"):
        _load(tmp_path, text)


def test_an_unknown_transport_kind_is_refused_naming_the_kinds(tmp_path: Path) -> None:
    text = '[[transports]]\nname = "iot"\nkind = "smtp"\n'
    with pytest.raises(
        ConfigError, match=r'transports\[0\]: kind must be "webhook", "mqtt" or "nostr"'
    ):
        _load(tmp_path, text)


def test_two_transports_with_one_client_id_on_one_broker_are_refused(tmp_path: Path) -> None:
    """The broker would drop one for the other on every connect: an endless outage."""
    second = BASE.replace('name = "iot"', 'name = "iot2"')
    with pytest.raises(ConfigError, match=r"transports: .*'iot' and 'iot2'.*client_id 'c1'"):
        _load(tmp_path, BASE + second)
