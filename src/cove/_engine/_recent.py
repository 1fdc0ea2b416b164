"""RecentJournal: the newest journal entries in memory, so runners read them without SQLite.

Design note: a runner reads the events after its position on the event loop,
once per batch, and nearly always from the newest ones. Entries are kept in
one list of consecutive seqs, so a read is one slice (C, not a dict lookup
per event, which cost ~0.5 µs per event and runner). Entries journaled
elsewhere (events a module emitted, journaled by the outbox) leave a gap:
the list then starts again at the new entries, and a read from before them
goes to the store, as does a read of anything older than the list holds.
Past its capacity the oldest quarter goes at once, so it holds between three
quarters of the capacity and all of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._store._base import JournalEntry


class RecentJournal:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: list[JournalEntry] = []
        self._first = 0
        """The seq of ``_entries[0]``."""

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entries: Sequence[JournalEntry]) -> None:
        """Keep newly journaled entries (consecutive seqs, in order)."""
        if not entries:
            return
        kept = self._entries
        if not kept or entries[0].seq != self._first + len(kept):
            kept.clear()
            self._first = entries[0].seq
        kept.extend(entries)
        over = len(kept) - self._capacity
        if over > 0:
            # A quarter more at once: deleting from the front moves the whole list, and
            # once per add (a webhook's one entry) that was ~10-20 µs of each publish.
            over += self._capacity // 4
            del kept[:over]
            self._first += over

    def read(self, after_seq: int, limit: int) -> list[JournalEntry] | None:
        """Up to ``limit`` entries after ``after_seq``; None when the first of them is not here."""
        start = after_seq + 1 - self._first
        if start < 0 or start >= len(self._entries):
            return None
        return self._entries[start : start + limit]

    @property
    def next_seq(self) -> int:
        """The seq after the newest entry held."""
        return self._first + len(self._entries)
