"""SqliteStore.flush syncs the WAL outside the store's lock, and still returns only once durable.

The fsync of a flush used to run inside SQLite's COMMIT, under the store's
lock, so a journal append (on the event loop) and a module's state reads and
commits waited for the disk. Now the COMMIT writes the WAL and the store
syncs it after letting go of the lock: what flush promises is unchanged
(everything written before it is on disk when it returns), and the effects
it committed become deliverable only after the sync.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove._events import Custom, Event
from cove._store._base import NewEffect
from cove._store._sqlite import SqliteStore
from tests.helpers.gated_store import GatedStore


def ev(event_id: str) -> Event:
    return Event(Custom("x", "test", "{}"), id=event_id, accepted_at_ms=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GatedStore]:
    s = GatedStore(tmp_path / "store.db")
    yield s
    s.sync_gate.open()
    s.close()


def _flush_in_thread(store: SqliteStore) -> threading.Thread:
    thread = threading.Thread(target=store.flush)
    thread.start()
    return thread


def test_appends_and_reads_go_on_while_a_flush_syncs(store: GatedStore) -> None:
    """While the WAL sync of one flush is in progress, the journal and state are usable."""
    store.append([ev("a")])
    store.sync_gate.held.set()
    flushing = _flush_in_thread(store)
    assert store.sync_gate.reached.wait(timeout=10), "the flush never reached its WAL sync"
    assert [2] == [e.seq for e in store.append([ev("b")])]
    assert ["a", "b"] == [e.event.id for e in store.read(0, 10)]
    assert flushing.is_alive()
    store.sync_gate.release.set()
    flushing.join(timeout=10)
    assert not flushing.is_alive()


def test_a_flush_with_nothing_to_commit_waits_for_the_sync_in_progress(
    store: GatedStore,
) -> None:
    """A second flush must not return while the first one's writes are not on disk yet."""
    store.append([ev("a")])
    store.sync_gate.held.set()
    first = _flush_in_thread(store)
    assert store.sync_gate.reached.wait(timeout=10)
    second = _flush_in_thread(store)
    second.join(timeout=0.2)
    assert second.is_alive()
    store.sync_gate.release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert not second.is_alive()


def test_effects_are_deliverable_only_after_the_sync(store: GatedStore) -> None:
    """The outbox sees a committed effect once the flush that wrote it has synced."""
    store.append([ev("a")])
    store.commit("m", 1, {}, [("a", [NewEffect("message", "{}")])])
    store.sync_gate.held.set()
    flushing = _flush_in_thread(store)
    assert store.sync_gate.reached.wait(timeout=10)
    assert [] == store.pending_effects(now_ms=0, limit=10)
    store.sync_gate.release.set()
    flushing.join(timeout=10)
    assert ["m:a:0"] == [e.key for e in store.pending_effects(now_ms=0, limit=10)]


def test_concurrent_flushes_share_one_sync(store: GatedStore) -> None:
    """Flushes that arrive during a sync are covered by at most one more."""
    store.append([ev("a")])
    store.sync_gate.held.set()
    first = _flush_in_thread(store)
    assert store.sync_gate.reached.wait(timeout=10)
    store.append([ev("b")])
    waiting = [_flush_in_thread(store) for _ in range(5)]
    store.sync_gate.held.clear()
    store.sync_gate.release.set()
    for thread in [first, *waiting]:
        thread.join(timeout=10)
    assert store.sync_gate.passed <= 2
