"""Engine config of a ``kind = "mqtt"`` entry of ``[[transports]]``: broker, session, topics.

The password is never written here: ``password_secret`` names a
``[secrets.<name>]`` section (an environment variable or a file), checked
by the engine config to exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ._config_base import Duration, StrictModel
from ._config_secrets import SECRET_NAME


def _topic_filter(value: str) -> str:
    """An MQTT topic filter: ``+`` and ``#`` only as whole levels, ``#`` only last."""
    if not value or "\0" in value or len(value.encode()) > 65_535:
        raise ValueError(f"{value!r} is not a topic filter")
    levels = value.split("/")
    for i, level in enumerate(levels):
        if ("+" in level or "#" in level) and level not in ("+", "#"):
            raise ValueError(f"{value!r}: a wildcard must be a whole level ('a/+/c', 'a/#')")
        if level == "#" and i != len(levels) - 1:
            raise ValueError(f"{value!r}: '#' must be the last level")
    return value


def shared_session(transports: Sequence[object]) -> str | None:
    """Why two mqtt transports would fight over one broker session, or None."""
    seen: dict[tuple[str, int, str], str] = {}
    for t in transports:
        if not isinstance(t, MqttTransportSettings):
            continue
        session = (t.host, t.port, t.client_id)
        if session in seen:
            return (
                f"{seen[session]!r} and {t.name!r} use client_id {t.client_id!r} on "
                f"{t.host}:{t.port}; the broker keeps one connection per client id"
            )
        seen[session] = t.name
    return None


class MqttTransportSettings(StrictModel):
    """One ``[[transports]]`` entry with ``kind = "mqtt"``: a broker connection (MQTT 5, QoS 1)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = Field(
        description="The name modules send through and their `message` subscriptions name."
    )
    kind: Literal["mqtt"] = Field(
        description="`mqtt`: sends are QoS 1 publishes to the topic named by the recipient."
    )
    host: Annotated[str, Field(min_length=1)] = Field(description="The broker's host name or IP.")
    port: Annotated[int, Field(ge=1, le=65_535)] = Field(
        default=1883, description="The broker's port (8883 is usual with `tls`)."
    )
    client_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z_.:-]{1,128}$")] = Field(
        description="The MQTT client id; the broker keeps this client's session (subscriptions, "
        "unacknowledged messages) under it, so give every engine its own (two transports "
        "with one client_id on one broker are refused)."
    )
    username: str | None = Field(default=None, description="Username sent to the broker.")
    password_secret: Annotated[str, Field(pattern=SECRET_NAME)] | None = Field(
        default=None,
        description="Name of the `[secrets.<name>]` section that holds the password; "
        "needs `username`.",
    )
    tls: bool = Field(default=False, description="Connect over TLS (certificates verified).")
    ca_file: Path | None = Field(
        default=None,
        description="CA bundle that verifies the broker (relative to the config file); "
        "unset: the system's. Needs `tls`.",
    )
    subscribe: list[str] = Field(
        default_factory=list,
        description="Topic filters (`+` one level, `#` the rest) whose publishes become "
        "`message` events on this transport; empty: outbound only.",
    )
    session_expiry: Duration = Field(
        default="1h",
        description="How long the broker keeps this client's session (and the QoS 1 messages "
        "for it) while the engine is away.",
    )
    keepalive: Duration = Field(default="30s", description="MQTT keepalive interval.")
    timeout: Duration = Field(
        default="10s", description="How long a send waits for the broker's PUBACK."
    )
    reconnect_initial: Duration = Field(
        default="500ms", description="Delay before the first reconnect after a loss; doubles."
    )
    reconnect_max: Duration = Field(
        default="30s", description="Longest delay between reconnect attempts."
    )

    @field_validator("subscribe")
    @classmethod
    def _filters(cls, value: list[str]) -> list[str]:
        return [_topic_filter(v) for v in value]

    @model_validator(mode="after")
    def _consistent(self) -> MqttTransportSettings:
        if self.password_secret is not None and self.username is None:
            raise ValueError("password_secret needs username")
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file needs tls = true")
        return self
