"""The stream's newest entries as this engine's subscription delivered them, for local reads.

Design note: every module read used to be a round trip to the NATS server on the
engine's loop; under load the engines' loops spent their time there and renewed
their leases late. The ordered consumer delivers every new entry of the stream,
in order and without gaps (it restarts itself from the last sequence it saw), so
the entries it delivered since it started are the whole stream over that range:
a read inside it is a slice. A read past its end finds nothing yet (the
subscription wakes the modules when more arrive) unless the subscription has
been silent for ``stale_s``: then the journal asks the server, in case the
subscription is gone.
"""

from __future__ import annotations

import bisect
import threading
import time

from ._base import JournalEntry


class Tail:
    def __init__(self, capacity: int, stale_s: float = 1.0) -> None:
        self._capacity = capacity
        self._stale_s = stale_s
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []
        self._seqs: list[int] = []
        self._from: int | None = None
        """Every entry after this seq up to ``_to`` is held (None: nothing delivered yet)."""
        self._to = 0
        self._heard = 0.0

    def start(self, after_seq: int) -> None:
        """The subscription delivers everything after ``after_seq`` from now on."""
        with self._lock:
            self._entries, self._seqs = [], []
            self._from, self._to = after_seq, after_seq
            self._heard = time.monotonic()

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            if self._from is None or entry.seq <= self._to:
                return  # before the start, or delivered again after a consumer reset
            self._entries.append(entry)
            self._seqs.append(entry.seq)
            self._to = entry.seq
            self._heard = time.monotonic()
            over = len(self._entries) - self._capacity
            if over > 0:
                self._from = self._seqs[over - 1]
                del self._entries[:over], self._seqs[:over]

    def forget(self, upto_seq: int) -> None:
        """Entries up to ``upto_seq`` were purged from the stream: drop them here too."""
        with self._lock:
            if self._from is None or upto_seq <= self._from:
                return
            cut = bisect.bisect_right(self._seqs, upto_seq)
            del self._entries[:cut], self._seqs[:cut]
            self._from = min(upto_seq, self._to)

    @property
    def last(self) -> int:
        """The newest seq delivered (0 before the start)."""
        return self._to

    def read(self, after_seq: int, limit: int) -> list[JournalEntry] | None:
        """The entries after ``after_seq`` held here; None when this tail cannot say (older
        than it holds, or past its end while the subscription has been silent)."""
        with self._lock:
            if self._from is None or after_seq < self._from:
                return None
            if after_seq >= self._to and time.monotonic() - self._heard > self._stale_s:
                return None
            start = bisect.bisect_right(self._seqs, after_seq)
            return self._entries[start : start + limit]
