"""Engine config of a ``kind = "nostr"`` entry of ``[[transports]]``: relays and the modules
whose identities it serves.

No key is written here: each served module signs and decrypts with the key
of its ``[identity.modules.<name>]`` keystore, which the engine config is
checked to have.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from ._config_base import Duration, StrictModel

MODULE_NAME = r"^[a-z][a-z0-9_-]{0,62}$"


class NostrTransportSettings(StrictModel):
    """One ``[[transports]]`` entry with ``kind = "nostr"``: signed events and NIP-44 DMs."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = Field(
        description="The name modules send through and their `message` subscriptions name."
    )
    kind: Literal["nostr"] = Field(
        description="`nostr`: a send to an npub is a NIP-44 v2 encrypted DM; to `note`, a "
        "public kind 1 note; both signed by the sending module's key."
    )
    relays: Annotated[list[Annotated[str, Field(pattern=r"^wss?://\S+$")]], Field(min_length=1)] = (
        Field(description="Relay URLs (`ws://` or `wss://`); events go to all, DMs come from all.")
    )
    modules: Annotated[list[Annotated[str, Field(pattern=MODULE_NAME)]], Field(min_length=1)] = (
        Field(
            description="The modules whose identities this transport serves: it sends as them "
            "and receives the DMs addressed to their pubkeys. Each needs "
            "`[identity.modules.<name>]`."
        )
    )
    lookback: Duration = Field(
        default="1h",
        description="On the first start, DMs this old are asked for; later starts and "
        "reconnects ask from the last DM seen (kept in the store), less a minute.",
    )
    timeout: Duration = Field(default="10s", description="How long a send waits for a relay's OK.")
    reconnect_initial: Duration = Field(
        default="500ms", description="Delay before the first reconnect to a relay; doubles."
    )
    reconnect_max: Duration = Field(
        default="30s", description="Longest delay between reconnect attempts."
    )

    @field_validator("modules")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"modules listed twice: {sorted(value)}")
        return value
