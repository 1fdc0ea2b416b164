"""JournalFeed: what the engine's appends tell the runners, and where a runner reads from.

Design note: an append is kept in the RecentJournal (a runner's read is then a
slice, not SQLite) and passed through the WakeIndex, which wakes only the
runners it concerns. A parked runner may skip to the append only when every
entry below it passed the index: entries journaled elsewhere (another engine,
the outbox's emitted events and alarms) leave a gap the feed remembers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .._store._base import JournalEntry, Store
from ._recent import RecentJournal
from ._runner import ModuleRunner
from ._wake_index import WakeIndex

RECENT_EVENTS = 20_000


class JournalFeed:
    def __init__(self, runners: Mapping[str, ModuleRunner], store: Callable[[], Store]) -> None:
        self._runners = runners
        self._store = store
        self._recent = RecentJournal(RECENT_EVENTS)
        self._index = WakeIndex()
        self._last_seen = 0
        """The last seq an append of this engine's passed the wake index with."""
        self._unseen_upto = 0
        """Entries up to here may not have passed the index (journaled by another engine,
        or by the outbox: emitted events, alarms): a parked module below it skips none."""

    def modules_changed(self) -> None:
        """A load, unload or reload: the wake index is rebuilt at the next append."""
        self._index.stale = True

    def appended(self, entries: list[JournalEntry]) -> None:
        """Keep the entries, and wake the runners they concern."""
        if not entries:
            return
        self._recent.add(entries)
        index = self._index
        if index.stale:
            index.rebuild(self._runners.values())
        passed = entries[0].seq - 1
        if passed != self._last_seen:
            self._unseen_upto = passed
        self._last_seen = entries[-1].seq
        for runner in index.concerned(entries, self._runners):
            runner.notify(passed if runner.position >= self._unseen_upto else None)

    def passed(self, runner: ModuleRunner) -> int:
        """A module parked since it caught up, and not notified since, has passed every
        entry the wake index saw after it (none was its own), though its stored cursor
        moves only when it commits: a quiet module must not hold the journal."""
        if runner.parked and runner.position >= self._unseen_upto:
            return max(runner.position, self._last_seen)
        return runner.position

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        out = self._recent.read(after_seq, limit)
        store = self._store()
        if out is not None and (len(out) == limit or self._recent.next_seq > store.head()):
            return out
        # Not held, or entries journaled elsewhere (emitted events) may follow the held ones.
        return store.read(after_seq, limit)

    def forget(self) -> None:
        """The store lost its open batch: the entries held here may never have committed."""
        self._recent = RecentJournal(RECENT_EVENTS)
