"""A flush never checkpoints the WAL under the store's lock; the checkpointer's own connection does.

SQLite's automatic checkpoint ran inside the COMMIT that took the WAL past
1,000 pages, under the store's lock, so the journal append on the event loop
waited for the copy and the database's fsync.
"""

from __future__ import annotations

import time
from pathlib import Path

from cove._events import Custom, Event
from cove._store._sqlite import SqliteStore


def _fill(store: SqliteStore, events: int) -> None:
    """Enough flushed journal entries to take the WAL well past 1,000 pages."""
    for start in range(0, events, 50):
        store.append(
            [
                Event(Custom("x", "test", "y" * 2000), id=f"e{n}", accepted_at_ms=1)
                for n in range(start, start + 50)
            ]
        )
        store.flush()


def test_flushes_leave_the_checkpoint_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqliteStore(path, checkpoint_interval=3600.0)  # its first turn is an hour away
    try:
        before = path.stat().st_size
        _fill(store, 3000)
        assert before == path.stat().st_size, "a flush copied WAL pages into the database"
        assert store.checkpointer is not None
        frames, copied = store.checkpointer.checkpoint()
        assert frames > 1000
        assert frames == copied
        assert path.stat().st_size > before
    finally:
        store.close()


def test_the_checkpointer_runs_after_flushes_once_its_interval_passed(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqliteStore(path, checkpoint_interval=0.05)
    try:
        before = path.stat().st_size
        _fill(store, 3000)
        deadline = time.monotonic() + 10
        while path.stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > before
        assert 3000 == len(store.read(0, 5000))
    finally:
        store.close()
    reopened = SqliteStore(path)
    try:
        assert 3000 == reopened.head()
    finally:
        reopened.close()
