"""What every engine config and manifest section is built from: strict models, durations, loopback."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from ._units import parse_duration_ms


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must not be ignored) and settings never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def checked_duration(value: str) -> str:
    parse_duration_ms(value)
    return value


Duration = Annotated[str, AfterValidator(checked_duration)]
"""A duration as written (``"250ms"``, ``"5m"``), checked when the config loads."""


K = TypeVar("K", str, int)


def repeated(values: Iterable[K]) -> list[K]:
    """The values that occur more than once, each once, sorted: for "must be unique" errors."""
    seen: set[K] = set()
    twice: set[K] = set()
    for value in values:
        (twice if value in seen else seen).add(value)
    return sorted(twice)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; a listener there is not reachable from outside."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
