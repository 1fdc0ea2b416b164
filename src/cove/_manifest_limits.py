"""What a module asks for in its manifest's [resources] (capped by the operator's
[limits]) and [restart] (capped by [limits.restart])."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, StrictInt, field_validator

from ._config_base import StrictModel
from ._units import parse_duration_ms, parse_size_bytes


class Resources(StrictModel):
    """Per-event and per-module limits the module asks for (capped by the operator)."""

    fuel: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None, description="Fuel (wasm instructions, roughly) per init or handle call."
    )
    memory: StrictInt | str | None = Field(
        default=None, description='Linear memory of a wasm instance: bytes or a size like "128MiB".'
    )
    timeout: str | None = Field(
        default=None, description='Wall-clock deadline per wasm init or handle call, e.g. "500ms".'
    )
    state: StrictInt | str | None = Field(
        default=None, description='Quota of stored state (keys + values): bytes or e.g. "1MiB".'
    )
    host_calls: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None, description="Host calls per event; one more fails the event."
    )
    emits: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Events one event may emit; one more is refused with `limit-exceeded`.",
    )
    sends: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Messages one event may send; one more is refused with `limit-exceeded`.",
    )
    alarms: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Alarms the module may have pending at once (`alarms` capability); "
        "one more is refused with `limit-exceeded`.",
    )
    emit_rate: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Events per second the module may emit, on average (bursts up to `emits`); "
        "bounds how fast one module, or a loop of modules emitting to each other, grows the "
        "journal. Over it an emit is refused with `limit-exceeded`.",
    )

    @field_validator("memory", "state")
    @classmethod
    def _size(cls, value: int | str | None) -> int | None:
        return None if value is None else parse_size_bytes(value)

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_ms(value)
        return value


class RestartPolicy(StrictModel):
    max_failures: Annotated[int, Strict(), Field(ge=1)] = Field(
        default=5, description="Consecutive failures after which the module is dead."
    )
    backoff_initial: str = Field(
        default="1s", description="Delay before the first retry; doubles per failure, ±20% jitter."
    )
    backoff_max: str = Field(default="5m", description="Longest delay between retries.")

    @field_validator("backoff_initial", "backoff_max")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value
