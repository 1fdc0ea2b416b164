"""The manifest's [capabilities]: which capabilities a module asks for, and the settings
of each grant (http hosts, transports, chains, identity methods, emitted names)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, Strict, model_validator

from ._config_base import StrictModel

Capability = Literal[
    "store",
    "http",
    "messaging",
    "events",
    "logging",
    "config",
    "chain",
    "identity",
    "hooks",
    "alarms",
]
CAPABILITIES: tuple[Capability, ...] = get_args(Capability)
# Reading its own config and writing its own log are never dangerous, so every
# module has them without asking; the rest must be declared and granted.
ALWAYS_GRANTED: frozenset[Capability] = frozenset({"logging", "config"})


class HttpGrant(StrictModel):
    allow: list[str] = Field(
        default_factory=list,
        description="Hosts the module may fetch: `api.example.com`, `*.example.com`, "
        "`host:port`, `[::1]:8080` or `*`.",
    )


class MessagingGrant(StrictModel):
    transports: list[str] | None = Field(
        default=None, description="Transports the module may send through; unset allows any."
    )


class ChainGrant(StrictModel):
    chains: list[Annotated[int, Strict(), Field(gt=0)]] = Field(
        default_factory=list,
        description="Chain ids the module may call (each must be in the engine's `[[chains]]`).",
    )


IdentityMethod = Literal["address", "sign-message", "sign-typed-data", "send-transaction"]
# Signing proves nothing happened on a chain; sending spends the account's
# funds, so it is granted only when the manifest names it.
DEFAULT_IDENTITY_METHODS: tuple[IdentityMethod, ...] = (
    "address",
    "sign-message",
    "sign-typed-data",
)


class IdentityGrant(StrictModel):
    methods: list[IdentityMethod] = Field(
        default_factory=lambda: list(DEFAULT_IDENTITY_METHODS),
        description="`identity` functions the module may call: `address`, `sign-message`, "
        "`sign-typed-data`, `send-transaction` (default: all but `send-transaction`, which "
        "also needs the `chain` grant for the transaction's chain).",
    )


class EventsGrant(StrictModel):
    emit: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Event names the module may emit, as glob patterns (`alerts.*`); unset, "
        "a module emits only under its own name (`<module>.*`), so it cannot pass its "
        "events off as another module's.",
    )


class Capabilities(StrictModel):
    required: list[Capability] = Field(
        default_factory=list,
        description="Capabilities the module cannot run without; a denied one refuses the load.",
    )
    optional: list[Capability] = Field(
        default_factory=list,
        description="Capabilities the module can do without; if denied, calls get `unsupported`.",
    )
    http: HttpGrant | None = Field(
        default=None, description="Settings of the `http` capability: its allowlist."
    )
    messaging: MessagingGrant | None = Field(
        default=None, description="Settings of the `messaging` capability."
    )
    chain: ChainGrant | None = Field(
        default=None, description="Settings of the `chain` capability: which chains."
    )
    identity: IdentityGrant | None = Field(
        default=None, description="Settings of the `identity` capability: which functions."
    )
    events: EventsGrant | None = Field(
        default=None, description="Settings of the `events` capability: which names it emits."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Capabilities:
        both = set(self.required) & set(self.optional)
        if both:
            raise ValueError(f"listed as both required and optional: {sorted(both)}")
        declared = set(self.required) | set(self.optional)
        if self.http is not None and "http" not in declared:
            raise ValueError("[capabilities.http] is set but 'http' is not in required/optional")
        if self.messaging is not None and "messaging" not in declared:
            raise ValueError(
                "[capabilities.messaging] is set but 'messaging' is not in required/optional"
            )
        if self.chain is not None and "chain" not in declared:
            raise ValueError("[capabilities.chain] is set but 'chain' is not in required/optional")
        if self.events is not None and "events" not in declared:
            raise ValueError(
                "[capabilities.events] is set but 'events' is not in required/optional"
            )
        if self.identity is not None and "identity" not in declared:
            raise ValueError(
                "[capabilities.identity] is set but 'identity' is not in required/optional"
            )
        return self

    @property
    def declared(self) -> frozenset[Capability]:
        return frozenset(self.required) | frozenset(self.optional)
