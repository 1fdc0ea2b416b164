"""What the engine config declares beyond modules: ``[[transports]]`` and ``[webhook]``,
built into transports and the inbound webhook server.

Design note: this reads the config and its secrets, so it sits in the
composition root, not among the sources: a source or a transport is given
its settings and knows nothing of the config file. Secrets are read here,
when the app is built, so a missing one fails before anything starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .._config import EngineConfig
from .._config_mqtt import MqttTransportSettings
from .._config_nostr import NostrTransportSettings
from .._config_transports import TransportSettings
from .._listen import ListenerLimits
from .._sources import _webhook_standard as standard
from .._sources._base import Source, Transport
from .._sources._webhook import WebhookTransport
from .._sources._webhook_auth import Credentials
from .._sources._webhook_server import WebhookServer
from .._units import parse_duration_ms
from ..errors import ConfigError
from ._declared_mqtt import mqtt_transport
from ._declared_nostr import nostr_transport


@dataclass(frozen=True, slots=True)
class WebhookParts:
    """What an engine config's ``[webhook]`` and ``[[transports]]`` turn into."""

    transports: list[Transport] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def webhook_parts(config: EngineConfig) -> WebhookParts:
    """Build transports and the inbound server; secrets are read now, so errors show at start."""
    transports: list[Transport] = [_transport(config, t) for t in config.transports]
    settings = config.webhook
    if settings is None:
        return WebhookParts(transports)
    secret = _read_secret(config, "webhook.secret", settings.secret_env, settings.secret_file)
    standard_mode = settings.signing == "standard" and secret is not None
    credentials = Credentials(
        secret=None if standard_mode else secret,
        standard=_standard_keys("webhook.secret", secret) if standard_mode else (),
        token=_text(_read_secret(config, "webhook.token", settings.token_env, settings.token_file)),
        tolerance=parse_duration_ms(settings.tolerance) / 1000,
    )
    server = WebhookServer(
        host=settings.host,
        port=settings.port,
        max_body=int(settings.max_body),
        max_in_flight=int(settings.max_body_in_flight),
        body_timeout=parse_duration_ms(settings.body_timeout) / 1000,
        credentials=credentials,
        transports=[t.name for t in config.transports if t.kind == "webhook"],
        limits=ListenerLimits.from_settings(config.listeners),
    )
    return WebhookParts(transports, [server])


def _transport(
    config: EngineConfig,
    settings: TransportSettings | MqttTransportSettings | NostrTransportSettings,
) -> Transport:
    if isinstance(settings, MqttTransportSettings):
        return mqtt_transport(config, settings)
    if isinstance(settings, NostrTransportSettings):
        return nostr_transport(config, settings)
    where = f"transports.{settings.name}.secret"
    secret = _read_secret(config, where, settings.secret_env, settings.secret_file)
    standard_mode = settings.signing == "standard" and secret is not None
    return WebhookTransport(
        settings.name,
        settings.url,
        timeout=parse_duration_ms(settings.timeout) / 1000,
        secret=None if standard_mode else secret,
        standard_key=_standard_keys(where, secret)[0] if standard_mode else None,
    )


def _standard_keys(what: str, secret: bytes | None) -> tuple[bytes, ...]:
    """The ``whsec_<base64>`` keys in a secret, separated by white space (several while rotating)."""
    words = (secret or b"").decode("ascii", "replace").split()
    keys = tuple(standard.parse_secret(word) for word in words)
    if not keys or any(key is None for key in keys):
        raise ConfigError(
            f'{what}: with signing = "standard" the secret must be whsec_<base64> keys '
            "separated by white space (the first signs; any of them verifies)"
        )
    return tuple(key for key in keys if key is not None)


def _read_secret(
    config: EngineConfig, what: str, env: str | None, file: Path | None
) -> bytes | None:
    if env is not None:
        value = os.environ.get(env, "")
        if not value:
            raise ConfigError(f"{what}_env: environment variable {env} is not set or is empty")
        return value.encode()
    if file is not None:
        path = config.resolve(file)
        try:
            data = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{what}_file: cannot read {path}: {exc.strerror}") from None
        if not data:
            raise ConfigError(f"{what}_file: {path} is empty")
        return data
    return None


def _text(secret: bytes | None) -> str | None:
    return None if secret is None else secret.decode("utf-8", "replace")


__all__ = ["WebhookParts", "webhook_parts"]
