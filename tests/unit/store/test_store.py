"""The Store contract (journal, state, cursors, outbox, durability) on every backend:
the ``store`` and ``backend`` fixtures (conftest.py) run each test on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from cove._events import Custom, Event
from cove._store._base import NewEffect, Store
from cove.errors import StoreError
from tests.unit.store.conftest import Backend


def ev(event_id: str, name: str = "x") -> Event:
    return Event(Custom(name, "test", "{}"), id=event_id, accepted_at_ms=1)


# journal -------------------------------------------------------------------------------


def test_append_assigns_increasing_seqs(store: Store) -> None:
    """Appended events get consecutive seqs from 1; head is the last one."""
    assert 0 == store.head()
    entries = store.append([ev("a"), ev("b")])
    assert [(1, "a"), (2, "b")] == [(e.seq, e.event.id) for e in entries]
    assert 2 == store.head()


def test_append_is_idempotent_by_event_id(store: Store) -> None:
    """Ids already journaled (in this batch or earlier) are skipped and not returned."""
    store.append([ev("a")])
    store.flush()
    entries = store.append([ev("a", name="changed"), ev("b"), ev("b")])
    assert ["b"] == [e.event.id for e in entries]
    assert entries[0].seq > 1  # seqs grow; skipped duplicates may leave gaps
    assert entries[0].seq == store.head()
    assert ["a", "b"] == [e.event.id for e in store.read(0, 10)]
    assert "x" == store.read(0, 1)[0].event.payload.name  # type: ignore[union-attr]


def test_read_returns_events_after_a_seq_in_order(store: Store) -> None:
    """``read(after, limit)`` pages through the journal by seq."""
    store.append([ev(str(i)) for i in range(5)])
    assert [3, 4] == [e.seq for e in store.read(2, 2)]
    assert [5] == [e.seq for e in store.read(4, 10)]
    assert [] == store.read(5, 10)
    assert ev("0") == store.read(0, 1)[0].event


# state and cursors ----------------------------------------------------------------------


def commit(
    store: Store, module: str, seq: int, writes: dict[str, Any], *effects: NewEffect
) -> None:
    store.commit(module, seq, writes, [(f"ev{seq}", list(effects))])


def test_commit_applies_writes_and_moves_the_cursor(store: Store) -> None:
    """Writes and deletes land in the module's state; the cursor is the event's seq."""
    assert 0 == store.cursor("m")
    commit(store, "m", 1, {"a": b"1", "b": b"2"})
    commit(store, "m", 2, {"a": None, "c": b"3"})
    assert (None, b"2", b"3") == (store.get("m", "a"), store.get("m", "b"), store.get("m", "c"))
    assert 2 == store.cursor("m")
    assert store.get("other", "b") is None
    assert 0 == store.cursor("other")


def test_list_keys_filters_by_prefix_and_module(store: Store) -> None:
    """Prefixes are literal (no LIKE wildcards) and work on non-ASCII keys."""
    commit(store, "m", 1, {"ab": b"", "a_": b"", "é1": b"", "éa": b"", "b": b""})
    commit(store, "n", 1, {"a1": b""})
    assert ["a_", "ab"] == store.list_keys("m", "a")
    assert ["a_"] == store.list_keys("m", "a_")
    assert ["é1", "éa"] == store.list_keys("m", "é")
    assert ["a_", "ab", "b", "é1", "éa"] == store.list_keys("m", "")


def test_state_bytes_tracks_writes_overwrites_and_deletes(store: Store) -> None:
    """Size is the sum of key bytes plus value bytes, per module."""
    commit(store, "m", 1, {"ab": b"123", "é": b"12"})
    assert 5 + 4 == store.state_bytes("m")
    commit(store, "m", 2, {"ab": b"1"})
    assert 3 + 4 == store.state_bytes("m")
    commit(store, "m", 3, {"é": None, "missing": None})
    assert 3 == store.state_bytes("m")
    assert 0 == store.state_bytes("other")


def test_commit_queues_effects_with_idempotency_keys(store: Store) -> None:
    """Effects get ``module:event:index`` keys; committing an event twice queues them once."""
    effects = [NewEffect("message", "m1"), NewEffect("event", "e1")]
    store.commit("m", 1, {}, [("ev1", effects)])
    store.commit("m", 1, {}, [("ev1", effects)])
    store.flush()
    pending = store.pending_effects(now_ms=0, limit=10)
    assert [("m:ev1:0", "message", "m1", 0), ("m:ev1:1", "event", "e1", 0)] == [
        (e.key, e.kind, e.body, e.attempts) for e in pending
    ]
    assert 2 == sum(h.backlog for h in store.outbox_health().values())


def test_commit_is_atomic(store: Store) -> None:
    """A failure inside one event's commit leaves no write, effect or cursor move behind."""
    commit(store, "m", 1, {"keep": b"1"})
    with pytest.raises(StoreError, match="committing events of 'm' failed"):
        store.commit(
            "m",
            2,
            {"keep": b"2", "new": b"3"},
            [("ev2", [NewEffect("message", object())])],  # type: ignore[list-item]
        )
    assert (b"1", None) == (store.get("m", "keep"), store.get("m", "new"))
    assert 1 == store.cursor("m")
    assert 5 == store.state_bytes("m")
    store.flush()
    assert [] == store.pending_effects(now_ms=0, limit=10)
    commit(store, "m", 2, {"new": b"3"})
    store.flush()
    assert 2 == store.cursor("m")


def test_commit_is_atomic_for_non_sqlite_failures_too(store: Store) -> None:
    """A key that cannot be encoded fails the event without leaving earlier writes behind."""
    with pytest.raises(UnicodeEncodeError):
        commit(store, "m", 1, {"a": b"1", "\ud800": b"2"})
    commit(store, "m", 2, {"b": b"1"})
    store.flush()
    assert (None, b"1") == (store.get("m", "a"), store.get("m", "b"))
    assert ["b"] == store.list_keys("m", "")
    assert 2 == store.state_bytes("m")


# outbox ---------------------------------------------------------------------------------


def test_pending_effects_only_returns_flushed_entries(store: Store) -> None:
    """Effects of an event still in the open batch are not sent before it is durable."""
    commit(store, "m", 1, {}, NewEffect("message", "first"))
    assert [] == store.pending_effects(now_ms=0, limit=10)
    store.flush()
    commit(store, "m", 2, {}, NewEffect("message", "second"))
    assert ["first"] == [e.body for e in store.pending_effects(now_ms=0, limit=10)]
    store.flush()
    assert ["first", "second"] == [e.body for e in store.pending_effects(now_ms=0, limit=10)]
    assert ["first"] == [e.body for e in store.pending_effects(now_ms=0, limit=1)]


def test_effect_retry_delays_and_counts_attempts(store: Store) -> None:
    """A retried effect is not due before ``next_at_ms`` and carries its attempt count."""
    commit(store, "m", 1, {}, NewEffect("message", "x"))
    store.flush()
    (entry,) = store.pending_effects(now_ms=0, limit=10)
    store.effect_retry(entry.id, next_at_ms=1_000, error="boom" * 1000)
    assert [] == store.pending_effects(now_ms=999, limit=10)
    (again,) = store.pending_effects(now_ms=1_000, limit=10)
    assert (entry.id, 1) == (again.id, again.attempts)


def test_a_migration_records_the_version_and_is_durable_at_once(backend: Backend) -> None:
    """The net change and the new version land together and survive a crash right after."""
    first = backend.open()
    commit(first, "m", 1, {"old": b"1", "keep": b"2"})
    first.flush()
    assert first.state_version("m") is None
    first.migrate_state("m", "0.2.0", {"old": None, "new": b"1"}, state_bytes=3 + 1 + 4 + 1)
    assert "0.2.0" == first.state_version("m")
    first._db.close()  # type: ignore[attr-defined]  # a crash: no flush of our own

    second = backend.open()
    try:
        assert "0.2.0" == second.state_version("m")
        assert ["keep", "new"] == second.list_keys("m", "")
        assert second.state_version("other") is None
    finally:
        second.close()


def test_a_migration_that_fails_leaves_state_version_and_other_writes_as_they_were(
    store: Store,
) -> None:
    """All or nothing: a write that cannot be stored keeps the old state and version, and an
    unflushed commit of another module in the open batch is kept."""
    commit(store, "m", 1, {"k": b"1"})
    store.migrate_state("m", "0.2.0", {"k": b"2"}, state_bytes=2)
    commit(store, "other", 1, {"theirs": b"1"})
    with pytest.raises((StoreError, UnicodeEncodeError)):
        store.migrate_state("m", "0.3.0", {"k": b"3", "\ud800": b"x"}, state_bytes=4)
    assert ("0.2.0", b"2") == (store.state_version("m"), store.get("m", "k"))
    store.flush()
    assert b"1" == store.get("other", "theirs")


def test_recent_effects_are_a_modules_newest_waiting_and_delivered(store: Store) -> None:
    """The file view's outbox: newest first, delivered ones kept until pruned, one module's."""
    commit(store, "m", 1, {}, NewEffect("message", "one"), NewEffect("event", "two"))
    commit(store, "other", 1, {}, NewEffect("message", "theirs"))
    commit(store, "m", 2, {}, NewEffect("message", "three"))
    assert ["three", "two", "one"] == [e.body for e in store.recent_effects("m", 10)]  # unflushed
    store.flush()
    first = store.pending_effects(now_ms=0, limit=1)[0]
    store.effect_done(first.id)
    store.effect_retry(store.pending_effects(now_ms=0, limit=1)[0].id, 5, "refused")
    recent = store.recent_effects("m", 2)
    assert [("three", False, 0), ("two", False, 1)] == [
        (e.body, e.delivered, e.attempts) for e in recent
    ]
    assert "refused" == recent[1].last_error
    (oldest,) = [e for e in store.recent_effects("m", 10) if e.body == "one"]
    assert oldest.delivered and oldest.done_ms > 0


def test_effect_done_removes_it_and_journals_emitted_events(store: Store) -> None:
    """Delivering an ``events.emit`` effect journals the event in the same step."""
    commit(store, "m", 1, {}, NewEffect("event", "e"), NewEffect("message", "m"))
    store.flush()
    first, second = store.pending_effects(now_ms=0, limit=10)
    store.effect_done(first.id, [ev("emitted-1", name="counter.threshold")])
    store.effect_done(second.id)
    store.flush()
    assert [] == store.pending_effects(now_ms=0, limit=10)
    assert 0 == sum(h.backlog for h in store.outbox_health().values())
    assert [(1, "emitted-1")] == [(e.seq, e.event.id) for e in store.read(0, 10)]


def test_effect_done_twice_journals_the_emitted_event_once(store: Store) -> None:
    """A redelivered effect (after a crash) does not duplicate the emitted event."""
    commit(store, "m", 1, {}, NewEffect("event", "e"))
    store.flush()
    (entry,) = store.pending_effects(now_ms=0, limit=10)
    store.effect_done(entry.id, [ev("emitted-1")])
    store.effect_done(entry.id, [ev("emitted-1")])
    assert 1 == store.head()


# sources and durability -----------------------------------------------------------------


def test_source_state_round_trips(store: Store) -> None:
    """Sources keep one string of progress each."""
    assert store.source_state("chain") is None
    store.set_source_state("chain", "block:10")
    store.set_source_state("chain", "block:11")
    assert "block:11" == store.source_state("chain")


def test_reopening_after_close_keeps_everything(backend: Backend) -> None:
    """Journal, state, sizes, cursors, outbox and source state survive a restart."""
    first = backend.open()
    first.append([ev("a"), ev("b")])
    commit(first, "m", 2, {"k": b"value"}, NewEffect("message", "hi"))
    first.set_source_state("demo", "7")
    first.close()

    second = backend.open()
    try:
        assert ["a", "b"] == [e.event.id for e in second.read(0, 10)]
        assert (b"value", 2, 6) == (
            second.get("m", "k"),
            second.cursor("m"),
            second.state_bytes("m"),
        )
        assert ["hi"] == [e.body for e in second.pending_effects(now_ms=0, limit=10)]
        assert "7" == second.source_state("demo")
        (entry,) = second.append([ev("a"), ev("c")])
        assert "c" == entry.event.id
        assert entry.seq > 2
    finally:
        second.close()


def test_unflushed_batch_is_lost_whole_on_a_crash(backend: Backend) -> None:
    """Without ``flush`` nothing of the open batch is durable, and nothing half of it."""
    first = backend.open()
    first.append([ev("a")])
    commit(first, "m", 1, {"k": b"1"})
    first.flush()
    first.append([ev("b")])
    commit(first, "m", 2, {"k": b"22"}, NewEffect("message", "lost"))
    first._db.close()  # type: ignore[attr-defined]  # a crash: the open transaction is never committed

    second = backend.open()
    try:
        assert ["a"] == [e.event.id for e in second.read(0, 10)]
        assert (b"1", 1, 2) == (second.get("m", "k"), second.cursor("m"), second.state_bytes("m"))
        assert [] == second.pending_effects(now_ms=0, limit=10)
    finally:
        second.close()


def test_commit_of_several_events_queues_each_events_effects_under_its_own_key(
    store: Store,
) -> None:
    """A batch commit keeps per-event idempotency keys and the last event's cursor."""
    store.commit(
        "m",
        7,
        {"k": b"2"},
        [("ev6", [NewEffect("message", "a")]), ("ev7", [NewEffect("message", "b")])],
    )
    store.flush()
    assert ["m:ev6:0", "m:ev7:0"] == [e.key for e in store.pending_effects(now_ms=0, limit=10)]
    assert (7, b"2") == (store.cursor("m"), store.get("m", "k"))


def test_single_appends_take_consecutive_seqs_and_a_repeated_id_is_journaled_once(
    store: Store,
) -> None:
    (first,) = store.append([ev("a")])
    assert store.append([ev("a")]) == []
    (second,) = store.append([ev("b")])
    # an ignored insert may use up a seq (AUTOINCREMENT); what counts is that each entry's is its own
    assert [(e.seq, e.event.id) for e in store.read(0, 10)] == [(first.seq, "a"), (second.seq, "b")]
    assert store.head() == second.seq
    assert store.journal_size().entries == 2
