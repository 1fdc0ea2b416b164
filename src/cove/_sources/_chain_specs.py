"""What a chain source needs from ``block`` and ``log`` subscriptions, and their streams.

The manifest's subscription models fit these Protocols; the source never
imports the manifest (a source knows nothing about modules).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from .._log_filter import log_filter
from ._chain_walk import Stream


class _Watched(Protocol):
    """What every chain subscription names: its chain, and how deep a block must be."""

    @property
    def chain_id(self) -> int: ...
    @property
    def confirmations(self) -> int: ...


class BlockSpec(_Watched, Protocol):
    """What the source needs from a ``block`` subscription (a manifest's, or a test's)."""

    @property
    def kind(self) -> Literal["block"]: ...


class LogSpec(_Watched, Protocol):
    """What the source needs from a ``log`` subscription (a manifest's, or a test's)."""

    @property
    def kind(self) -> Literal["log"]: ...
    @property
    def address(self) -> str | list[str] | None: ...
    @property
    def topics(self) -> list[str | list[str] | None]: ...


ChainSpec = BlockSpec | LogSpec


def streams(subscriptions: Sequence[ChainSpec]) -> list[Stream]:
    """The subscriptions of one chain grouped by depth."""
    depths = sorted({s.confirmations for s in subscriptions})
    return [
        Stream(
            depth,
            blocks=any(s.kind == "block" and s.confirmations == depth for s in subscriptions),
            filters=tuple(
                dict.fromkeys(
                    log_filter(s.address, s.topics)
                    for s in subscriptions
                    if s.kind == "log" and s.confirmations == depth
                )
            ),
        )
        for depth in depths
    ]


__all__ = ["BlockSpec", "ChainSpec", "LogSpec", "streams"]
