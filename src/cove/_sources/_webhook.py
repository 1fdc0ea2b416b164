"""Webhook transports: outbound HTTP POSTs, and the factory that builds them from config.

A send POSTs ``{"recipient", "body", "metadata": [[key, value], ...]}`` with
``Idempotency-Key`` and, so one cove engine can post into another's
``/messages/``, ``X-Cove-Delivery`` (or ``webhook-id``): the same value, or a
digest of it when it is too long or not printable ASCII for a delivery id.
Any non-2xx answer or network failure raises ``DeliveryError``, and the
outbox retries later.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .._config import EngineConfig, TransportSettings
from .._listen import ListenerLimits
from .._redact import error_reason, redact_url
from .._units import parse_duration_ms
from ..errors import ConfigError, DeliveryError
from . import _webhook_standard as standard
from ._base import Source, Transport
from ._webhook_auth import DELIVERY_HEADER, SIGNATURE_HEADER, Credentials, delivery_id_for, sign
from ._webhook_server import WebhookServer


class WebhookTransport(Transport):
    """Sends messages as JSON POSTs to one URL; signs them when it has a secret."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout: float = 10.0,
        secret: bytes | None = None,
        standard_key: bytes | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._standard_key = standard_key
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.request_headers: Callable[[], dict[str, str]] | None = None
        """More headers per send (the engine's ``traceparent`` when tracing is on)."""

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        content = json.dumps(
            {"recipient": recipient, "body": body, "metadata": [list(m) for m in metadata]}
        ).encode()
        delivery = delivery_id_for(idempotency_key)
        headers = {
            "content-type": "application/json",
            "idempotency-key": idempotency_key,
            DELIVERY_HEADER: delivery,
        }
        if self.request_headers is not None:
            headers.update(self.request_headers())
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, content)
        if self._standard_key is not None:
            now = int(time.time())
            headers[standard.ID_HEADER] = delivery
            headers[standard.TIMESTAMP_HEADER] = str(now)
            headers[standard.SIGNATURE_HEADER] = standard.sign(
                self._standard_key, delivery, now, content
            )
        try:
            response = await self._client.post(self.url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"transport {self.name!r}: POST {redact_url(self.url)} failed: {error_reason(exc)}"
            ) from exc
        if not response.is_success:
            raise DeliveryError(
                f"transport {self.name!r}: POST {redact_url(self.url)} answered "
                f"{response.status_code}"
            )

    async def aclose(self) -> None:
        await self._client.aclose()


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
        transports=[t.name for t in config.transports],
        limits=ListenerLimits.from_settings(config.listeners),
    )
    return WebhookParts(transports, [server])


def _transport(config: EngineConfig, settings: TransportSettings) -> Transport:
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
