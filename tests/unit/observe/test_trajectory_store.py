"""TrajectoryStore: batched writes, queries by module/outcome/time/id, retention by age and size."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cove._capabilities._call_record import HostCallRecord
from cove._engine._trajectory import Trajectory
from cove._observe import _trajectories
from cove._observe._trajectories import Retention, TrajectoryQuery, TrajectoryStore

DAY_MS = 86_400_000
HOUR_INTERVAL_MS = 3_600_000  # the writer thread stays out of the way; tests flush


@dataclass
class Opened:
    path: Path
    store: TrajectoryStore


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Opened]:
    path = tmp_path / "trajectories.db"
    opened = Opened(path, TrajectoryStore(path, Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS))
    yield opened
    opened.store.close()


def trajectory(module: str = "m", seq: int = 1, outcome: str = "ok", error: str = "") -> Trajectory:
    call = HostCallRecord("store", "set", "count (2 bytes)", None, 1_500)
    return Trajectory(module, f"ev-{module}-{seq}", seq, outcome, error, (call,), 42, 9_000)


def add(store: TrajectoryStore, *records: Trajectory) -> None:
    """As the runner hands them over: one module's records in one call."""
    store.add(records[0].module, list(records))


def test_a_query_sees_queued_records_with_every_field(opened: Opened) -> None:
    """Reads write the queue first, so a record is visible as soon as it is added."""
    before = time.time_ns() // 1_000_000
    add(opened.store, trajectory(outcome="failed", error="boom"))
    [found] = opened.store.query(TrajectoryQuery())
    assert ("m", "ev-m-1", 1, "failed", "boom", 42, 9_000) == (
        found.module,
        found.event_id,
        found.seq,
        found.outcome,
        found.error,
        found.fuel,
        found.wall_ns,
    )
    assert found.at_ms >= before
    expected_call = {
        "interface": "store",
        "function": "set",
        "summary": "count (2 bytes)",
        "error": None,
        "duration_ns": 1_500,
    }
    assert (expected_call,) == found.calls


def test_filters_by_module_outcome_and_time(opened: Opened) -> None:
    store = opened.store
    for seq in range(1, 4):
        add(store, trajectory("a", seq))
    add(store, trajectory("b", 4, "failed", "bad"))
    assert [3, 2, 1] == [t.seq for t in store.query(TrajectoryQuery(module="a"))]
    assert [4] == [t.seq for t in store.query(TrajectoryQuery(outcome="failed"))]
    assert [] == store.query(TrajectoryQuery(since_ms=time.time_ns() // 1_000_000 + DAY_MS))
    assert 4 == len(store.query(TrajectoryQuery(until_ms=time.time_ns() // 1_000_000 + 1)))
    assert [4, 3] == [t.seq for t in store.query(TrajectoryQuery(limit=2))]


def test_each_outcome_filter_returns_its_own_records_from_mixed_and_single_chunks(
    opened: Opened,
) -> None:
    """A chunk counts skipped records as not ok (its ``failed`` column); the records
    inside still match on their own outcome."""
    store = opened.store
    add(store, trajectory("a", 1), trajectory("a", 2, "failed", "x"), trajectory("a", 3, "skipped"))
    add(store, trajectory("b", 4, "skipped"))
    add(store, trajectory("c", 5))
    by_outcome = {
        outcome: sorted(t.seq for t in store.query(TrajectoryQuery(outcome=outcome)))
        for outcome in ("ok", "failed", "skipped")
    }
    assert {"ok": [1, 5], "failed": [2], "skipped": [3, 4]} == by_outcome


def test_after_id_returns_the_oldest_first_for_following(opened: Opened) -> None:
    store = opened.store
    for seq in range(1, 6):
        add(store, trajectory(seq=seq))
    first = store.query(TrajectoryQuery(after_id=0, limit=2))
    rest = store.query(TrajectoryQuery(after_id=first[-1].id))
    assert [1, 2, 3, 4, 5] == [t.seq for t in first + rest]


def test_records_and_their_size_survive_a_reopen(opened: Opened) -> None:
    add(opened.store, trajectory())
    opened.store.flush()
    size = opened.store.stored_bytes
    opened.store.close()
    opened.store = TrajectoryStore(opened.path, Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS)
    assert ["ev-m-1"] == [t.event_id for t in opened.store.query(TrajectoryQuery())]
    assert 0 < size == opened.store.stored_bytes


def test_size_retention_drops_the_oldest_records(tmp_path: Path) -> None:
    store = TrajectoryStore(tmp_path / "t.db", Retention(DAY_MS, 4_000), HOUR_INTERVAL_MS)
    try:
        for seq in range(1, 101):
            add(store, trajectory(seq=seq))
            if seq % 10 == 0:  # ten flushes, ten chunks
                store.flush()
        kept = [t.seq for t in store.query(TrajectoryQuery(limit=1_000))]
        assert 0 < store.stored_bytes <= 4_000
        assert kept == list(range(100, 100 - len(kept), -1))  # the newest ones, contiguous
        assert 0 < len(kept) < 100
    finally:
        store.close()


def test_records_of_many_chunks_and_modules_keep_their_order(opened: Opened) -> None:
    """More records than one chunk holds, from two modules, flushed together."""
    store = opened.store
    for seq in range(1, 601):
        add(store, trajectory("a" if seq % 3 else "b", seq))
    everything = store.query(TrajectoryQuery(limit=1_000))
    assert list(range(600, 0, -1)) == sorted((t.seq for t in everything), reverse=True)
    only_b = [t.seq for t in store.query(TrajectoryQuery(module="b", limit=1_000))]
    assert list(range(600, 0, -3)) == only_b
    followed, after = [], 0
    while page := store.query(TrajectoryQuery(module="a", after_id=after, limit=7)):
        followed += [t.seq for t in page]
        after = page[-1].id
    assert [s for s in range(1, 601) if s % 3] == followed


def test_age_retention_drops_records_older_than_max_age(tmp_path: Path) -> None:
    store = TrajectoryStore(tmp_path / "t.db", Retention(1, 1 << 30), HOUR_INTERVAL_MS)
    try:
        add(store, trajectory())
        store.flush()
        time.sleep(0.01)  # the record is now older than 1 ms
        assert [] == store.query(TrajectoryQuery())
        assert 0 == store.stored_bytes
    finally:
        store.close()


def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = TrajectoryStore(path, Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS)
    add(store, trajectory())
    store.close()
    reopened = TrajectoryStore(path, Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS)
    try:
        assert 1 == len(reopened.query(TrajectoryQuery()))
    finally:
        reopened.close()


def test_a_stuck_writer_drops_and_counts_records_instead_of_growing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_trajectories, "MAX_QUEUED", 3)
    store = TrajectoryStore(tmp_path / "t.db", Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS)
    try:
        add(store, trajectory(seq=1), trajectory(seq=2), trajectory(seq=3))
        add(store, trajectory(seq=4), trajectory(seq=5))
        assert 2 == store.dropped
        assert [3, 2, 1] == [t.seq for t in store.query(TrajectoryQuery())]
        add(store, trajectory(seq=6))  # the flush emptied the queue
        assert [6] == [t.seq for t in store.query(TrajectoryQuery(limit=1))]
    finally:
        store.close()


def test_outcome_filters_resolve_per_chunk_in_sql_within_the_scan_budget(opened: Opened) -> None:
    """Chunks count failed and skipped apart, so a failed-only query skips chunks of skipped
    records in SQL: one chunk of scan budget reaches the failed record behind 20 such chunks."""
    store = opened.store
    add(store, trajectory("a", 1, "failed", "boom"))
    store.flush()
    for n in range(20):
        add(store, trajectory("a", 100 + n, "skipped"))
        store.flush()  # one chunk each
    page = store.query_page(TrajectoryQuery(outcome="failed", max_chunks=1))
    assert ([1], None) == ([t.seq for t in page.found], page.resume_id)
    skipped = store.query_page(TrajectoryQuery(outcome="skipped", max_chunks=1))
    assert [119] == [t.seq for t in skipped.found][:1]


def test_the_scan_budget_answers_with_where_to_go_on(opened: Opened) -> None:
    store = opened.store
    for n in range(5):
        add(store, trajectory("a", n + 1))
        store.flush()
    first = store.query_page(TrajectoryQuery(max_chunks=2))
    assert [5, 4] == [t.seq for t in first.found] and first.resume_id is not None
    rest = store.query_page(TrajectoryQuery(before_id=first.resume_id, max_chunks=3))
    assert ([3, 2, 1], None) == ([t.seq for t in rest.found], rest.resume_id)


def test_a_file_from_before_skipped_counts_still_filters_right(tmp_path: Path) -> None:
    """A file written without the ``skipped`` column gets it (NULL: either outcome may be there)."""
    import json
    import sqlite3

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE trajectory_chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, module TEXT NOT NULL,"
        " first_at_ms INTEGER NOT NULL, last_at_ms INTEGER NOT NULL, count INTEGER NOT NULL,"
        " failed INTEGER NOT NULL, records TEXT NOT NULL, size INTEGER NOT NULL)"
    )
    now = int(time.time() * 1000)
    records = [[now, "e1", 1, "failed", "x", 0, 0, []], [now, "e2", 2, "skipped", "", 0, 0, []]]
    db.execute(
        "INSERT INTO trajectory_chunks (module, first_at_ms, last_at_ms, count, failed, records,"
        " size) VALUES ('a', ?, ?, 2, 2, ?, 100)",
        (now, now, json.dumps(records)),
    )
    db.commit()
    db.close()
    store = TrajectoryStore(path, Retention(DAY_MS, 1 << 30), HOUR_INTERVAL_MS)
    try:
        failed = [t.seq for t in store.query(TrajectoryQuery(outcome="failed"))]
        skipped = [t.seq for t in store.query(TrajectoryQuery(outcome="skipped"))]
    finally:
        store.close()
    assert ([1], [2]) == (failed, skipped)
