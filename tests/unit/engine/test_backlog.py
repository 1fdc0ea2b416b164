"""Backlog (a module's queue depth) and the status head while the journal cannot be read:
the last complete count is what a status shows, marked stale, never a half count."""

from __future__ import annotations

from typing import cast

import pytest

from cove import Custom, Event
from cove._engine._backlog import Backlog
from cove._engine._status import status_head
from cove._manifest_subscriptions import CustomSubscription
from cove._store._base import JournalEntry, Store
from cove.errors import StoreError

ENTRIES = [JournalEntry(seq, Event(Custom("probe.n", "", ""), id=f"e{seq}")) for seq in (1, 2, 3)]


class Journal:
    """The entries above, until ``away`` is set: then every read fails as on a lost server."""

    def __init__(self) -> None:
        self.away = False

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        if self.away:
            raise StoreError("nats://127.0.0.1:4222 stream S: not connected (reconnecting)")
        return [e for e in ENTRIES if e.seq > after_seq][:limit]

    def head(self) -> int:
        if self.away:
            raise StoreError("nats://127.0.0.1:4222 stream S: not connected (reconnecting)")
        return 3

    def known_head(self) -> int:
        return 3


def test_a_failed_recount_keeps_the_last_complete_count() -> None:
    journal = Journal()
    backlog = Backlog([CustomSubscription(kind="custom", name="probe.*")], journal.read)
    assert 3 == backlog.depth(0, 3)
    journal.away = True
    with pytest.raises(StoreError):
        backlog.depth(1, 3)  # the position moved: the entries must be read again
    assert 3 == backlog.counted, "not the half count of the failed read"
    journal.away = False
    assert 2 == backlog.depth(1, 3)
    assert 2 == backlog.counted


def test_the_status_head_is_the_known_one_while_the_journal_is_away() -> None:
    journal = Journal()
    store = cast(Store, journal)
    assert (3, False) == status_head(store)
    journal.away = True
    assert (3, True) == status_head(store)
