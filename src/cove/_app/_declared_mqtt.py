"""A ``kind = "mqtt"`` entry of ``[[transports]]`` built into an ``MqttTransport``.

The password is read from its ``[secrets.<name>]`` section here, when the
app is built, so a missing one stops the engine before anything starts; it
goes to the transport alone and is never logged.
"""

from __future__ import annotations

import ssl

from .._config import EngineConfig
from .._config_mqtt import MqttTransportSettings
from .._config_secrets import read_secret
from .._sources._mqtt import MqttOptions, MqttTransport
from .._units import parse_duration_ms
from ..errors import ConfigError


def mqtt_transport(config: EngineConfig, settings: MqttTransportSettings) -> MqttTransport:
    password = None
    if settings.password_secret is not None:
        name = settings.password_secret
        password = read_secret(name, config.secrets[name], config.source)
    options = MqttOptions(
        host=settings.host,
        port=settings.port,
        client_id=settings.client_id,
        username=settings.username,
        password=password,
        tls=_tls(config, settings) if settings.tls else None,
        subscribe=tuple(settings.subscribe),
        session_expiry_s=parse_duration_ms(settings.session_expiry) // 1000,
        keepalive_s=max(1, parse_duration_ms(settings.keepalive) // 1000),
        timeout_s=parse_duration_ms(settings.timeout) / 1000,
        reconnect_initial_s=parse_duration_ms(settings.reconnect_initial) / 1000,
        reconnect_max_s=parse_duration_ms(settings.reconnect_max) / 1000,
    )
    return MqttTransport(settings.name, options)


def _tls(config: EngineConfig, settings: MqttTransportSettings) -> ssl.SSLContext:
    if settings.ca_file is None:
        return ssl.create_default_context()
    path = config.resolve(settings.ca_file)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{config.source}: transports.{settings.name}.ca_file: cannot load {path}: {exc}"
        ) from None


__all__ = ["mqtt_transport"]
