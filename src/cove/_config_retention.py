"""Engine config for how long things are kept: the outbox's retries (``[outbox]``) and
per-transport delivery limits (``[outbox.transports.<name>]``), and ``[retention]`` of the
journal and of delivered effects."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from ._config_base import Duration, StrictModel, checked_duration
from ._units import parse_size_bytes


class DeliveryLimits(StrictModel):
    """``[outbox.transports.<name>]``: when the outbox gives up on one transport's sends."""

    max_attempts: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Attempts before a send moves to the dead letters; unset: [outbox]'s.",
    )
    max_age: str | None = Field(
        default=None,
        description="How long after its event a send is retried before it moves to the dead "
        "letters; unset: [outbox]'s.",
    )

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return None if value is None else checked_duration(value)


class RetentionSettings(StrictModel):
    """``[retention]``: what the store prunes, so a long run's disk stays bounded.

    The journal keeps every entry a loaded module has not passed yet, whatever its age.
    An event id is deduplicated only while its entry is kept: ``journal_max_age`` is the
    publish-dedup window (shorter when ``journal_max_size`` prunes first).
    """

    journal_max_age: Duration = Field(
        default="7d",
        description="Journal entries older than this are pruned once every loaded module has "
        "passed them; also the window in which a re-published event id is ignored.",
    )
    journal_max_size: int | str = Field(
        default=1024 * 1024 * 1024,
        description="Past this many bytes of event ids and bodies, the oldest entries every "
        "loaded module has passed are pruned, whatever their age.",
    )
    delivered_max_age: Duration = Field(
        default="1h", description="Delivered messages and emits are deleted after this long."
    )
    dead_max_age: Duration = Field(
        default="30d",
        description="Dead letters are deleted this long after the outbox gave up on them.",
    )
    interval: Duration = Field(default="1m", description="How often the store is pruned.")

    @field_validator("journal_max_size")
    @classmethod
    def _size(cls, value: int | str) -> int:
        size = parse_size_bytes(value)
        if size < 1024:
            raise ValueError("journal_max_size must be at least 1KiB")
        return size

    @property
    def journal_max_bytes(self) -> int:
        assert isinstance(self.journal_max_size, int)  # the validator made it one
        return self.journal_max_size


class OutboxSettings(StrictModel):
    """Retry schedule for effects whose send failed (exponential, ±20% jitter)."""

    retry_initial: Duration = Field(
        default="500ms", description="Delay before the first retry of a failed send; doubles."
    )
    retry_max: Duration = Field(
        default="5m", description="Longest delay between retries of a send."
    )
    max_attempts: Annotated[int, Field(ge=1)] = Field(
        default=20, description="Attempts before a send moves to the dead letters."
    )
    max_age: Duration = Field(
        default="24h",
        description="How long after its event a send is retried before it moves to the dead letters.",
    )
    transports: dict[str, DeliveryLimits] = Field(
        default_factory=dict,
        description="Per transport name: max_attempts and max_age for that transport's sends.",
    )
