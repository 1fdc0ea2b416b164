"""Engine config for chains (``[[chains]]``): providers, retries, rate limit, method policy.

Kept apart from ``_config.py`` so the chain surface can grow without touching
the core config model; ``EngineConfig`` only holds the list.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, model_validator

from ._config_base import Duration, StrictModel

HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$")]
WsUrl = Annotated[str, Field(pattern=r"^wss?://\S+$")]

# Methods that spend the node's keys, change its chain or expose its internals:
# a module gets them only when the operator allows them for it by name.
DEFAULT_DENIED_METHODS = (
    "eth_sendTransaction",
    "eth_sign",
    "eth_signTransaction",
    "eth_signTypedData*",
    "personal_*",
    "admin_*",
    "miner_*",
    "debug_*",
    "anvil_*",
    "hardhat_*",
    "evm_*",
)


class RetrySettings(StrictModel):
    """Retries of a request whose endpoints all failed (exponential, ±20% jitter)."""

    attempts: Annotated[int, Strict(), Field(ge=1, le=10)] = Field(
        default=3, description="Rounds over all endpoints before a request fails."
    )
    initial: Duration = Field(
        default="100ms", description="Delay before the second round; doubles per round."
    )
    max: Duration = Field(default="2s", description="Longest delay between rounds.")


class ChainSettings(StrictModel):
    """One ``[[chains]]`` entry: the providers of one chain and how modules may use them."""

    chain_id: Annotated[int, Strict(), Field(gt=0)] = Field(
        description="EIP-155 chain id; modules and subscriptions name the chain by it."
    )
    http: HttpUrl = Field(description="Primary JSON-RPC endpoint over HTTP.")
    ws: WsUrl | list[WsUrl] | None = Field(
        default=None,
        description="WebSocket endpoint(s) for the block/log source's `newHeads` subscription "
        "(tried in turn on reconnect); unset: the source polls over HTTP.",
    )
    fallbacks: list[HttpUrl] = Field(
        default_factory=list,
        description="HTTP endpoints tried in order when the primary fails.",
    )
    timeout: Duration = Field(default="10s", description="Timeout of one request to one endpoint.")
    poll_interval: Duration = Field(
        default="100ms",
        description="How often the block/log source asks for the head over HTTP (without "
        "`ws`, or while its connection is down).",
    )
    retry: RetrySettings = Field(
        default_factory=RetrySettings, description="Retries when every endpoint failed."
    )
    rate_limit: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Requests per second to this chain (a batch counts each call); unset: none.",
    )
    max_calls_per_event: Annotated[int, Strict(), Field(gt=0)] = Field(
        default=100,
        description="Chain calls one module may make while handling one event (a batch counts each).",
    )
    allow_methods: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Methods modules may call (`fnmatch` patterns such as `eth_*`).",
    )
    deny_methods: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DENIED_METHODS),
        description="Methods refused even if allowed; `policy.modules.<m>.chain_methods` "
        "re-allows one for one module. Default: signing, node admin, debug, anvil/evm.",
    )

    @model_validator(mode="after")
    def _distinct_endpoints(self) -> ChainSettings:
        if self.http in self.fallbacks:
            raise ValueError(f"fallbacks repeat the primary endpoint {self.http!r}")
        return self
