"""Engine config [webhook] (the inbound HTTP server) and [[transports]]: the webhook
transport, and the one union of every transport kind (webhook, mqtt, nostr)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Strict, StrictInt, Tag, field_validator, model_validator

from ._config_base import Duration, StrictModel, is_loopback
from ._config_mqtt import MqttTransportSettings
from ._config_nostr import NostrTransportSettings
from ._units import parse_size_bytes


class WebhookSettings(StrictModel):
    """The inbound HTTP server (``[webhook]``) for webhook transports and ``/webhooks/``.

    Secrets never sit in this file: ``*_env`` names an environment variable
    and ``*_file`` a file that holds the value.
    """

    host: str = Field(
        default="127.0.0.1",
        description="Listen address; non-loopback needs a secret or a token.",
    )
    port: Annotated[int, Strict(), Field(ge=0, le=65_535)] = Field(
        default=8787, description="Listen port (0 picks a free one)."
    )
    max_body: StrictInt | str = Field(
        default=1024 * 1024, description="Largest request body; larger gets 413."
    )
    secret_env: str | None = Field(
        default=None, description="Environment variable holding the HMAC-SHA256 key."
    )
    secret_file: Path | None = Field(default=None, description="File holding the HMAC-SHA256 key.")
    token_env: str | None = Field(
        default=None, description="Environment variable holding the bearer token."
    )
    token_file: Path | None = Field(default=None, description="File holding the bearer token.")
    signing: Literal["cove", "standard"] = Field(
        default="cove",
        description=(
            "How the secret signs: `standard` (Standard Webhooks: webhook-id, webhook-timestamp, "
            "webhook-signature; recommended) or `cove` (X-Cove-Signature over the body alone)."
        ),
    )
    tolerance: Duration = Field(
        default="5m",
        description="`standard` signing: how far webhook-timestamp may be from this clock.",
    )
    max_body_in_flight: StrictInt | str = Field(
        default=16 * 1024 * 1024,
        description="Request body bytes read at once across all connections; more gets 503.",
    )
    body_timeout: Duration = Field(
        default="10s", description="A request's whole body must arrive within this (else 408)."
    )

    @field_validator("max_body_in_flight")
    @classmethod
    def _in_flight(cls, value: int | str) -> int:
        return parse_size_bytes(value)

    @field_validator("max_body")
    @classmethod
    def _size(cls, value: int | str) -> int:
        size = parse_size_bytes(value)
        if size < 1:
            raise ValueError("max_body must be at least 1 byte")
        return size

    @model_validator(mode="after")
    def _auth(self) -> WebhookSettings:
        if self.secret_env is not None and self.secret_file is not None:
            raise ValueError("set one of secret_env or secret_file, not both")
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("set one of token_env or token_file, not both")
        if not self.authenticated and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from other machines; configure "
                "secret_env/secret_file or token_env/token_file, or listen on 127.0.0.1"
            )
        assert isinstance(self.max_body, int) and isinstance(self.max_body_in_flight, int)
        if self.max_body_in_flight < self.max_body:
            raise ValueError("max_body_in_flight must be at least max_body")
        return self

    @property
    def authenticated(self) -> bool:
        refs = (self.secret_env, self.secret_file, self.token_env, self.token_file)
        return any(ref is not None for ref in refs)


class TransportSettings(StrictModel):
    """One ``[[transports]]`` entry: a named transport modules can send through."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = Field(
        description="The name modules send through and `/messages/<name>` receives on."
    )
    kind: Literal["webhook"] = Field(description="`webhook`: sends are JSON POSTs to `url`.")
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] = Field(
        description="Where sends are POSTed."
    )
    timeout: Duration = Field(default="10s", description="Timeout of one send.")
    secret_env: str | None = Field(
        default=None, description="Environment variable holding the key that signs sends."
    )
    secret_file: Path | None = Field(default=None, description="File holding the signing key.")
    signing: Literal["cove", "standard"] = Field(
        default="cove",
        description=(
            "How sends are signed: `standard` (Standard Webhooks headers; the key as "
            "whsec_<base64>) or `cove` (X-Cove-Signature); match the receiver's `[webhook] signing`."
        ),
    )

    @model_validator(mode="after")
    def _one_secret(self) -> TransportSettings:
        if self.secret_env is not None and self.secret_file is not None:
            raise ValueError("set one of secret_env or secret_file, not both")
        return self


def _transport_kind(value: object) -> object:
    """The ``kind`` of a ``[[transports]]`` entry; without one it is checked as a webhook
    entry, so the error names the missing ``kind`` (and any unknown key) as before mqtt."""
    if isinstance(value, dict):
        return value.get("kind", "webhook")
    return getattr(value, "kind", None)


AnyTransport = Annotated[
    Annotated[TransportSettings, Tag("webhook")]
    | Annotated[MqttTransportSettings, Tag("mqtt")]
    | Annotated[NostrTransportSettings, Tag("nostr")],
    Discriminator(
        _transport_kind,
        custom_error_type="transport_kind",
        custom_error_message='kind must be "webhook", "mqtt" or "nostr"',
    ),
]
"""A ``[[transports]]`` entry, told apart by its ``kind``."""
