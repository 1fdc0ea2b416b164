"""A module's queue depth: the journal entries after its position that it subscribes to.

Counting means reading the unread entries and matching them, so the count is
kept between calls: while the position stays put (a dead or backing-off
module, where the backlog grows) only the entries appended since the last
count are read; when it moves, the entries between the position and the head
are few (a module that keeps up) and are read again.
"""

from __future__ import annotations

from collections.abc import Callable

from .._manifest_subscriptions import Subscription
from .._store._base import JournalEntry
from ._matching import SubscriptionMatcher

_CHUNK = 1_024


class Backlog:
    """Counts one module's waiting events; ``depth`` is called from the event loop."""

    def __init__(
        self,
        subscriptions: list[Subscription],
        read: Callable[[int, int], list[JournalEntry]],
        module: str = "",
    ) -> None:
        self._matches = SubscriptionMatcher(subscriptions, module)
        self._read = read
        self._position = -1
        self._counted_to = -1
        self._count = 0

    @property
    def counted(self) -> int:
        """The last complete count (what ``depth`` last returned): a read that fails
        (StoreError, the journal's server away) leaves it as it was."""
        return self._count

    def depth(self, position: int, head: int) -> int:
        """Entries in (position, head] that match the module's subscriptions."""
        counted_to, count = self._counted_to, self._count
        if position != self._position or counted_to > head:
            counted_to, count = position, 0
        while counted_to < head:
            entries = self._read(counted_to, _CHUNK)
            if not entries:
                break
            for entry in entries:
                if entry.seq > head:
                    break
                if self._matches(entry.event):
                    count += 1
            counted_to = min(head, entries[-1].seq)
        self._position, self._counted_to, self._count = position, counted_to, count
        return count
