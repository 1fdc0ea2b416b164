"""Hook registry: ``@hook(point)`` maps an engine hook point to the author's function.

The function gets the point's payload (decoded JSON) and returns None to pass
it on unchanged, a new payload to replace it, or ``Veto(reason)``. The points
themselves must also be listed as ``[[hook]]`` in cove.toml.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Veto:
    """Returned by a hook at ``before-message`` or ``after-tool-result``: stop the action."""

    reason: str


HOOKS: dict[str, Callable[[Any], Any]] = {}


def hook(point: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register ``fn(payload)`` for the hook point ``point`` (e.g. ``"before-message"``)."""
    if point in HOOKS:
        raise ValueError(f"hook point {point!r} is registered twice")

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        HOOKS[point] = fn
        return fn

    return register
