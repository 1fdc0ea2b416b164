"""One log filter (addresses, topics by position) for both sides of a ``log`` subscription.

The chain source asks the node with it (``eth_getLogs`` criteria) and sorts
the answers into depth streams with it; the engine matches a journaled log
against a module's subscription with it. One matcher, so what the node is
asked for and what a module is handed can never disagree (case, a topic
list at one position, a shorter topic list).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LogFilter:
    """One eth_getLogs filter: addresses (None: any) and topics by position, lower-cased."""

    address: tuple[str, ...] | None
    topics: tuple[tuple[str, ...] | None, ...]

    def criteria(self) -> dict[str, Any]:
        """The address and topics part of an eth_getLogs filter."""
        query: dict[str, Any] = {}
        if self.address is not None:
            query["address"] = list(self.address)
        if self.topics:
            query["topics"] = [None if t is None else list(t) for t in self.topics]
        return query

    def accepts(self, address: str, topics: Sequence[str]) -> bool:
        """Does a log from ``address`` with ``topics`` pass this filter, as the node decides?"""
        if self.address is not None and address.lower() not in self.address:
            return False
        for position, wanted in enumerate(self.topics):
            if wanted is None:
                continue
            if position >= len(topics) or topics[position].lower() not in wanted:
                return False
        return True

    def matches(self, entry: Mapping[str, Any]) -> bool:
        """``accepts`` for a raw ``eth_getLogs`` entry (which depth streams get it)."""
        return self.accepts(entry["address"], entry["topics"])


def log_filter(
    address: str | list[str] | None, topics: Sequence[str | list[str] | None]
) -> LogFilter:
    """A filter from a manifest's ``log`` subscription (addresses and topics lower-cased)."""
    addresses = None
    if address is not None:
        addresses = tuple(a.lower() for a in ([address] if isinstance(address, str) else address))
    by_position = tuple(
        None if t is None else tuple(x.lower() for x in ([t] if isinstance(t, str) else t))
        for t in topics
    )
    return LogFilter(addresses, by_position)
