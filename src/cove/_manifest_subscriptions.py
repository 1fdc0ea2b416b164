"""The manifest's [[subscription]] kinds: which events a module receives."""

from __future__ import annotations

from typing import Annotated, Literal

from croniter import croniter
from pydantic import Field, Strict, model_validator

from ._config_base import StrictModel
from ._units import parse_duration_ms


class BlockSubscription(StrictModel):
    kind: Literal["block"] = Field(description="New blocks of one chain.")
    chain_id: Annotated[int, Strict(), Field(gt=0)] = Field(description="EIP-155 chain id.")
    confirmations: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=0, description="Blocks on top before delivery (0: at once)."
    )


class LogSubscription(StrictModel):
    kind: Literal["log"] = Field(description="Contract event logs of one chain.")
    chain_id: Annotated[int, Strict(), Field(gt=0)] = Field(description="EIP-155 chain id.")
    address: str | list[str] | None = Field(
        default=None, description="Contract address or addresses (any case); unset: any."
    )
    topics: list[str | list[str] | None] = Field(
        default_factory=list,
        description="Topic filters by position: a topic, a list of alternatives, or null for any.",
    )
    confirmations: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=0, description="Blocks on top before delivery (0: at once)."
    )


class TickSubscription(StrictModel):
    kind: Literal["tick"] = Field(description="Ticks from the engine's cron source.")
    schedule: str | None = Field(
        default=None, description="Cron expression (croniter syntax, UTC); or set `every`."
    )
    every: str | None = Field(
        default=None, description='Interval aligned to the Unix epoch, e.g. "30s"; or `schedule`.'
    )

    @model_validator(mode="after")
    def _one_of(self) -> TickSubscription:
        if (self.schedule is None) == (self.every is None):
            raise ValueError("a tick subscription needs exactly one of `schedule` or `every`")
        if self.schedule is not None and not croniter.is_valid(self.schedule):
            raise ValueError(f"`schedule` is not a valid cron expression: {self.schedule!r}")
        if self.every is not None:
            parse_duration_ms(self.every)
        return self

    @property
    def label(self) -> str:
        return self.schedule if self.schedule is not None else f"every {self.every}"


class MessageSubscription(StrictModel):
    kind: Literal["message"] = Field(description="Inbound messages of transports.")
    transport: str | None = Field(
        default=None, description="Only messages on this transport; unset: every transport."
    )


class WebhookSubscription(StrictModel):
    kind: Literal["webhook"] = Field(description="Inbound HTTP requests to `/webhooks/...`.")
    path: Annotated[str, Field(pattern=r"^/[\w./-]*$")] = Field(
        description='Exact path after `/webhooks`, e.g. "/github".'
    )


class CustomSubscription(StrictModel):
    kind: Literal["custom"] = Field(description="Events emitted by modules (or published).")
    name: Annotated[str, Field(min_length=1)] = Field(
        description="Event name; shell-style wildcards such as `alert.*` match many."
    )


class LifecycleSubscription(StrictModel):
    kind: Literal["lifecycle"] = Field(
        description="Lifecycle events (started, stopping, reloaded)."
    )


Subscription = Annotated[
    BlockSubscription
    | LogSubscription
    | TickSubscription
    | MessageSubscription
    | WebhookSubscription
    | CustomSubscription
    | LifecycleSubscription,
    Field(discriminator="kind"),
]
