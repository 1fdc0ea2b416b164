"""Retention and dead letters on every backend: pruning the journal and delivered effects,
moving failed effects aside; and a SQLite store written before these columns existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove._events import Custom, Event
from cove._store._base import JournalRetention, NewEffect, Store
from cove._store._sqlite import SqliteStore
from tests.unit.store.conftest import Backend


def ev(event_id: str, at_ms: int = 1, payload: str = "{}") -> Event:
    return Event(Custom("x", "test", payload), id=event_id, accepted_at_ms=at_ms)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    s = backend.open(clock=lambda: 1_000)
    yield s
    s.close()


def _message(store: Store, seq: int, transport: str = "chat") -> int:
    body = f'{{"transport": "{transport}", "recipient": "r", "body": "b", "metadata": []}}'
    store.commit("m", seq, {}, [(f"ev{seq}", [NewEffect("message", body)])])
    store.flush()
    return store.pending_effects(now_ms=2**62, limit=1000)[-1].id


# journal -------------------------------------------------------------------------------


def test_journal_entries_older_than_the_age_are_pruned_up_to_the_floor(store: Store) -> None:
    """Only entries both older than ``before_ms`` and at or below ``floor_seq`` go."""
    store.append([ev("a", 10), ev("b", 20), ev("c", 30), ev("d", 40)])
    assert 2 == store.prune_journal(JournalRetention(before_ms=35, max_bytes=2**40), floor_seq=2)
    assert ["c", "d"] == [e.event.id for e in store.read(0, 10)]
    assert 1 == store.prune_journal(JournalRetention(before_ms=35, max_bytes=2**40), floor_seq=4)
    assert ["d"] == [e.event.id for e in store.read(0, 10)]


def test_journal_over_its_size_drops_the_oldest(store: Store) -> None:
    """Past ``max_bytes`` the oldest handled entries go, whatever their age."""
    store.append([ev(str(i), 10**12, payload="x" * 100) for i in range(10)])
    full = store.journal_size().bytes
    pruned = store.prune_journal(JournalRetention(before_ms=0, max_bytes=full // 2), floor_seq=10)
    assert pruned >= 5
    assert store.journal_size().bytes <= full // 2
    assert 10 - pruned == store.journal_size().entries


def test_journal_size_counts_appends_and_survives_a_reopen(backend: Backend) -> None:
    """The byte count is kept in memory and rebuilt from the rows on open."""
    first = backend.open()
    first.append([ev("a"), ev("b")])
    first.append([ev("a")])  # a duplicate adds nothing
    size = first.journal_size()
    first.close()
    second = backend.open()
    assert size == second.journal_size()
    assert 2 == size.entries
    assert 1 == second.journal_size().oldest_ms
    second.close()


def test_a_pruned_id_can_be_journaled_again(store: Store) -> None:
    """Publish dedup lasts as long as the entry: the window is the journal's retention."""
    store.append([ev("a", 10), ev("b", 10)])
    assert 1 == store.prune_journal(JournalRetention(before_ms=11, max_bytes=2**40), floor_seq=2)
    assert ["a"] == [e.event.id for e in store.append([ev("a", 20)])]


def test_the_newest_entry_is_kept_so_the_head_never_goes_back(store: Store) -> None:
    store.append([ev("a", 10), ev("b", 10)])
    assert 1 == store.prune_journal(JournalRetention(before_ms=11, max_bytes=0), floor_seq=2)
    assert (2, ["b"]) == (store.head(), [e.event.id for e in store.read(0, 10)])


def test_seqs_are_never_reused_after_pruning(store: Store) -> None:
    store.append([ev("a", 10), ev("b", 10)])
    store.prune_journal(JournalRetention(before_ms=11, max_bytes=2**40), floor_seq=2)
    assert [3] == [e.seq for e in store.append([ev("c")])]


# delivered effects ---------------------------------------------------------------------


def test_delivered_effects_older_than_the_age_are_pruned(backend: Backend) -> None:
    now = [1_000]
    store = backend.open(clock=lambda: now[0])
    first = _message(store, 1)
    store.effect_done(first)
    now[0] = 5_000
    second = _message(store, 2)
    store.effect_done(second)
    _message(store, 3)  # pending: never pruned
    assert 1 == store.prune_delivered(before_ms=2_000)
    assert 2 == store.outbox_rows()
    assert 1 == store.prune_delivered(before_ms=6_000)
    assert 1 == store.outbox_rows()
    store.close()


# dead letters --------------------------------------------------------------------------


def test_a_dead_effect_leaves_the_outbox_with_its_history(store: Store) -> None:
    entry = _message(store, 1)
    store.effect_retry(entry, next_at_ms=0, error="first")
    store.effect_dead(entry, "ConnectionError: refused")
    assert [] == store.pending_effects(now_ms=2**62, limit=10)
    (dead,) = store.dead_letters(None, 10)
    assert ("m", "message", 2, "ConnectionError: refused") == (
        dead.module,
        dead.kind,
        dead.attempts,
        dead.last_error,
    )
    assert "chat" == dead.transport
    assert (1_000, 1_000) == (dead.created_ms, dead.dead_ms)
    assert 1 == store.outbox_health()["m"].dead_letters


def test_retrying_a_dead_letter_queues_it_again_with_no_attempts(store: Store) -> None:
    dead = [_message(store, seq) for seq in (1, 2)]
    for entry in dead:
        store.effect_dead(entry, "boom")
    letters = store.dead_letters(None, 10)
    assert [letters[0].id] == store.retry_dead([letters[0].id, 999])
    assert [] == store.pending_effects(now_ms=2**62, limit=10)  # durable first
    store.flush()
    (again,) = store.pending_effects(now_ms=2**62, limit=10)
    assert (0, letters[0].key) == (again.attempts, again.key)
    assert [letters[1].id] == [d.id for d in store.dead_letters(None, 10)]


def test_dropping_dead_letters_deletes_them(store: Store) -> None:
    for entry in [_message(store, seq) for seq in (1, 2)]:
        store.effect_dead(entry, "boom")
    ids = [d.id for d in store.dead_letters(None, 10)]
    assert ids[:1] == store.drop_dead([*ids[:1], 999])
    assert ids[1:] == [d.id for d in store.dead_letters("m", 10)]
    assert [] == store.dead_letters("other", 10)


def test_dead_letters_older_than_the_age_are_pruned(backend: Backend) -> None:
    now = [1_000]
    store = backend.open(clock=lambda: now[0])
    store.effect_dead(_message(store, 1), "boom")
    now[0] = 5_000
    store.effect_dead(_message(store, 2), "boom")
    assert 1 == store.prune_dead(before_ms=2_000)
    assert [5_000] == [d.dead_ms for d in store.dead_letters(None, 10)]
    store.close()


def test_outbox_health_reports_attempts_error_and_next_retry(store: Store) -> None:
    first = _message(store, 1)
    _message(store, 2)
    store.effect_retry(first, next_at_ms=7_000, error="ConnectionError: refused")
    health = store.outbox_health()["m"]
    assert (2, 1, "ConnectionError: refused", 7_000) == (
        health.backlog,
        health.attempts,
        health.last_error,
        health.next_retry_ms,
    )


# an older store ------------------------------------------------------------------------


def test_a_store_from_before_retention_opens_and_gains_the_columns(tmp_path: Path) -> None:
    """A cove.db written by an earlier version opens; its old rows count as ancient."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                              id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
        CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
            module TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_at_ms INTEGER NOT NULL DEFAULT 0,
            last_error TEXT, done INTEGER NOT NULL DEFAULT 0);
        INSERT INTO journal (id, body) VALUES ('old', '{}');
        INSERT INTO outbox (key, module, kind, body, done) VALUES ('k', 'm', 'message', '{}', 1);
        """
    )
    db.commit()
    db.close()
    store = SqliteStore(path, synchronous="OFF")
    assert 0 == store.journal_size().oldest_ms
    store.append([ev("new", at_ms=5)])
    assert 1 == store.prune_journal(JournalRetention(before_ms=1, max_bytes=2**40), floor_seq=2)
    assert 1 == store.prune_delivered(before_ms=1)
    store.close()


def test_marking_an_effect_done_joins_the_open_batch(backend: Backend) -> None:
    """``effect_done`` is made durable by the next flush, with everything else (one fsync for
    a batch of deliveries), not in a transaction and fsync of its own."""
    store = backend.open()
    entry = _message(store, 1)
    store.effect_done(entry)
    assert [(0,)] == backend.durable("SELECT CAST(done AS INTEGER) FROM outbox")
    store.flush()
    assert [(1,)] == backend.durable("SELECT CAST(done AS INTEGER) FROM outbox")
    store.close()
