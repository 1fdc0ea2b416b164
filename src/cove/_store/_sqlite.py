"""SQLite (WAL) backend of the store: one connection, group commit by ``flush``.

Design note: a single connection serialised by a lock is simpler than a pool
and is what makes group commit cheap: every event's writes go into one open
transaction (each inside its own SAVEPOINT, so a failing write cannot leave
half an event behind) and ``flush`` commits them with one fsync. Readers use
the same connection, so they see unflushed writes, which is what a module
needs to go on to its next event before the previous one is on disk.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .._event_codec import event_from_json, journal_rows
from .._events import Event
from .._fast_record import fast_constructor
from ..errors import StoreError
from . import _sqlite_outbox as outbox
from ._base import (
    DeadLetter,
    JournalEntry,
    JournalRetention,
    JournalSize,
    NewEffect,
    OutboxEntry,
    OutboxHealth,
    RecentEffect,
    Store,
)
from ._rules import PRUNE_CHUNK
from ._wal_sync import WalSync

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cursors (module TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS released (module TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS state (
    module TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (module, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    module TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL DEFAULT 0,
    done_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (done, next_at_ms);
CREATE TABLE IF NOT EXISTS sources (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state_versions (module TEXT PRIMARY KEY, version TEXT NOT NULL);
"""


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


_entry = fast_constructor(JournalEntry)
"""A journal entry made per appended or read event, without the frozen ``__init__``."""


class SqliteStore(Store):
    """``clock``: Unix ms for when effects are queued and delivered (retention ages)."""

    def __init__(
        self, path: Path, *, synchronous: str = "FULL", clock: Callable[[], int] = _wall_ms
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            # FULL in WAL mode is NORMAL plus a WAL sync per commit: done by _sync_wal,
            # outside the lock (see _wal_sync.py).
            self._wal_sync = WalSync(path) if mode == "wal" and synchronous == "FULL" else None
            self._db.execute(
                f"PRAGMA synchronous={'NORMAL' if self._wal_sync is not None else synchronous}"
            )
            self._db.executescript(_SCHEMA)
            outbox.migrate(self._db)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None
        self.path = path
        self._lock = threading.RLock()
        self._in_batch = False
        # Sizes live in memory and are rebuilt on open: one scan at start-up is
        # cheaper than an extra write per event.
        self._sizes: dict[str, int] = dict(
            self._db.execute(
                "SELECT module, SUM(length(CAST(key AS BLOB)) + length(value)) FROM state GROUP BY module"
            )
        )
        self._durable_outbox = self._max_outbox()
        entries, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(length(id) + length(body)), 0) FROM journal"
        ).fetchone()
        self._journal_entries: int = entries
        self._journal_bytes: int = size

    def _begin(self) -> None:
        if not self._in_batch:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:  # locked by another process past the busy timeout
                raise StoreError(f"{self.path}: cannot start a write: {exc}") from None
            self._in_batch = True

    def _max_outbox(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
        return int(row[0])

    # journal --------------------------------------------------------------
    def append(self, events: Sequence[Event]) -> list[JournalEntry]:
        if not events:
            return []
        rows = journal_rows(events)
        if len(rows) == 1:
            return self._append_one(events[0], rows[0])
        with self._lock:
            self._begin()
            before = self._head()
            inserted = self._db.executemany(
                "INSERT OR IGNORE INTO journal (id, body, at_ms) VALUES (?, ?, ?)", rows
            ).rowcount
            if inserted == len(rows):
                # No duplicate: the rows took consecutive seqs, the last one the head.
                first = self._head() - len(rows) + 1
                self._journal_entries += len(rows)
                self._journal_bytes += sum(len(event_id) + len(body) for event_id, body, _ in rows)
                return [_entry(first + i, event) for i, event in enumerate(events)]
            added = self._db.execute(
                "SELECT seq, id FROM journal WHERE seq > ? ORDER BY seq", (before,)
            ).fetchall()
        by_id = {event.id: event for event in events}
        sizes = {event_id: len(event_id) + len(body) for event_id, body, _ in rows}
        with self._lock:
            self._journal_entries += len(added)
            self._journal_bytes += sum(sizes[event_id] for _, event_id in added)
        return [JournalEntry(seq, by_id[event_id]) for seq, event_id in added]

    def _append_one(self, event: Event, row: tuple[str, str, int]) -> list[JournalEntry]:
        """One event (a webhook's): its seq is the insert's rowid, no ``MAX(seq)`` query needed."""
        with self._lock:
            self._begin()
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO journal (id, body, at_ms) VALUES (?, ?, ?)", row
            )
            if cursor.rowcount != 1 or cursor.lastrowid is None:
                return []  # a duplicate id: journaled before
            self._journal_entries += 1
            self._journal_bytes += len(row[0]) + len(row[1])
            return [JournalEntry(cursor.lastrowid, event)]

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [_entry(seq, event_from_json(body)) for seq, body in rows]

    def head(self) -> int:
        with self._lock:
            return self._head()

    def _head(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0])

    # state ------------------------------------------------------------------
    def cursor(self, module: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT seq FROM cursors WHERE module = ?", (module,)).fetchone()
        return int(row[0]) if row else 0

    def held_cursors(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT module, seq FROM cursors WHERE module NOT IN (SELECT module FROM released)"
            ).fetchall()
        return {str(module): int(seq) for module, seq in rows}

    def set_released(self, module: str, released: bool) -> None:
        with self._lock:
            self._begin()
            if released:
                self._db.execute("INSERT OR IGNORE INTO released (module) VALUES (?)", (module,))
            else:
                self._db.execute("DELETE FROM released WHERE module = ?", (module,))
                # A module that has not committed yet holds from the start.
                self._db.execute(
                    "INSERT OR IGNORE INTO cursors (module, seq) VALUES (?, 0)", (module,)
                )

    def get(self, module: str, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM state WHERE module = ? AND key = ?", (module, key)
            ).fetchone()
        return bytes(row[0]) if row else None

    def list_keys(self, module: str, prefix: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM state WHERE module = ? AND substr(key, 1, ?) = ? ORDER BY key",
                (module, len(prefix), prefix),
            ).fetchall()
        return [row[0] for row in rows]

    def state_bytes(self, module: str) -> int:
        with self._lock:
            return self._sizes.get(module, 0)

    def state_items(self, module: str) -> list[tuple[str, bytes]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM state WHERE module = ? ORDER BY key", (module,)
            ).fetchall()
        return [(row[0], bytes(row[1])) for row in rows]

    def commit(
        self,
        module: str,
        cursor: int,
        writes: Mapping[str, bytes | None],
        effects: Sequence[tuple[str, Sequence[NewEffect]]],
        state_bytes: int | None = None,
    ) -> None:
        with self._lock:
            self._begin()
            db = self._db
            db.execute("SAVEPOINT event")
            try:
                size = self._sizes.get(module, 0)
                for key, value in writes.items():
                    if state_bytes is None:
                        row = db.execute(
                            "SELECT length(value) FROM state WHERE module = ? AND key = ?",
                            (module, key),
                        ).fetchone()
                        if row is not None:
                            size -= len(key.encode()) + row[0]
                        if value is not None:
                            size += len(key.encode()) + len(value)
                    if value is None:
                        db.execute("DELETE FROM state WHERE module = ? AND key = ?", (module, key))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO state (module, key, value) VALUES (?, ?, ?)",
                            (module, key, value),
                        )
                if state_bytes is not None:
                    size = state_bytes
                now = self._clock()
                rows = [
                    (
                        f"{module}:{event_id}:{index}", module, effect.kind, effect.body, now,
                        effect.not_before_ms,
                    )
                    for event_id, event_effects in effects
                    for index, effect in enumerate(event_effects)
                ]  # fmt: skip
                if rows:
                    db.executemany(
                        "INSERT OR IGNORE INTO outbox "
                        "(key, module, kind, body, created_ms, next_at_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                db.execute(
                    "INSERT OR REPLACE INTO cursors (module, seq) VALUES (?, ?)", (module, cursor)
                )
                db.execute("RELEASE event")
            except BaseException as exc:
                # Any failure (not only sqlite's: a key that is not UTF-8, a
                # cancellation) must not leave half an event in the open batch.
                db.execute("ROLLBACK TO event")
                db.execute("RELEASE event")
                if not isinstance(exc, sqlite3.Error):
                    raise
                raise StoreError(
                    f"{self.path}: committing events of {module!r} failed: {exc}"
                ) from None
            self._sizes[module] = size

    # state versions ---------------------------------------------------------
    def state_version(self, module: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT version FROM state_versions WHERE module = ?", (module,)
            ).fetchone()
        return str(row[0]) if row else None

    def migrate_state(
        self, module: str, version: str, writes: Mapping[str, bytes | None], state_bytes: int
    ) -> None:
        with self._lock:
            self._begin()
            db = self._db
            db.execute("SAVEPOINT migration")
            try:
                deleted = [(module, k) for k, v in writes.items() if v is None]
                written = [(module, k, v) for k, v in writes.items() if v is not None]
                db.executemany("DELETE FROM state WHERE module = ? AND key = ?", deleted)
                db.executemany(
                    "INSERT OR REPLACE INTO state (module, key, value) VALUES (?, ?, ?)", written
                )
                db.execute(
                    "INSERT OR REPLACE INTO state_versions (module, version) VALUES (?, ?)",
                    (module, version),
                )
                db.execute("RELEASE migration")
            except BaseException as exc:
                db.execute("ROLLBACK TO migration")
                db.execute("RELEASE migration")
                if not isinstance(exc, sqlite3.Error):
                    raise
                raise StoreError(
                    f"{self.path}: migrating the state of {module!r} failed: {exc}"
                ) from None
            self._sizes[module] = state_bytes
        self.flush()

    # outbox -----------------------------------------------------------------
    def pending_alarms(self, module: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE module = ? AND kind = 'alarm' AND done = 0",
                (module,),
            ).fetchone()
        return int(row[0])

    def pending_effects(self, now_ms: int, limit: int) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key, module, kind, body, attempts, created_ms FROM outbox "
                "WHERE done = 0 AND next_at_ms <= ? AND id <= ? ORDER BY id LIMIT ?",
                (now_ms, self._durable_outbox, limit),
            ).fetchall()
        return [OutboxEntry(*row) for row in rows]

    def recent_effects(self, module: str, limit: int) -> list[RecentEffect]:
        with self._lock:
            return outbox.recent_effects(self._db, module, limit)

    def effect_done(self, entry_id: int, emitted: Sequence[Event] = ()) -> None:
        with self._lock:
            # In the open batch: outside one, each delivery was a transaction and an fsync.
            self._begin()
            self.append(emitted)
            self._db.execute(
                "UPDATE outbox SET done = 1, done_ms = ? WHERE id = ?", (self._clock(), entry_id)
            )

    def effect_retry(self, entry_id: int, next_at_ms: int, error: str) -> None:
        with self._lock:
            self._begin()
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at_ms = ?, last_error = ? WHERE id = ?",
                (next_at_ms, error[:500], entry_id),
            )

    def outbox_health(self) -> dict[str, OutboxHealth]:
        with self._lock:
            return outbox.outbox_health(self._db)

    # dead letters -----------------------------------------------------------
    def effect_dead(self, entry_id: int, error: str) -> None:
        with self._lock:
            self._begin()
            outbox.move_to_dead(self._db, entry_id, error, self._clock())

    def dead_letters(self, module: str | None, limit: int, bodies: bool = True) -> list[DeadLetter]:
        with self._lock:
            return outbox.dead_letters(self._db, module, limit, bodies)

    def retry_dead(self, ids: Sequence[int]) -> list[int]:
        with self._lock:
            self._begin()
            return outbox.retry_dead(self._db, ids, self._clock())

    def drop_dead(self, ids: Sequence[int]) -> list[int]:
        with self._lock:
            self._begin()
            return outbox.drop_dead(self._db, ids)

    # retention --------------------------------------------------------------
    def journal_size(self) -> JournalSize:
        with self._lock:
            row = self._db.execute("SELECT at_ms FROM journal ORDER BY seq LIMIT 1").fetchone()
            return JournalSize(
                self._journal_entries, self._journal_bytes, None if row is None else int(row[0])
            )

    def prune_journal(self, retention: JournalRetention, floor_seq: int) -> int:
        total = 0
        while True:
            # The lock is taken per step, so events are journaled between steps.
            with self._lock:
                self._begin()
                # The newest entry stays, so the head (its seq) never goes back.
                floor = min(floor_seq, self._head() - 1)
                count, freed = outbox.prune_journal(self._db, retention, floor, self._journal_bytes)
                self._journal_entries -= count
                self._journal_bytes -= freed
            total += count
            if count < PRUNE_CHUNK:
                return total

    def prune_delivered(self, before_ms: int) -> int:
        return self._prune_steps(outbox.prune_delivered, before_ms)

    def prune_dead(self, before_ms: int) -> int:
        return self._prune_steps(outbox.prune_dead, before_ms)

    def _prune_steps(self, step: Callable[[sqlite3.Connection, int], int], before_ms: int) -> int:
        """Run a pruning step until it deletes less than a chunk, taking the lock per step."""
        total = 0
        while True:
            with self._lock:
                self._begin()
                count = step(self._db, before_ms)
            total += count
            if count < PRUNE_CHUNK:
                return total

    def outbox_rows(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # sources ----------------------------------------------------------------
    def source_state(self, source: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM sources WHERE name = ?", (source,)).fetchone()
        return str(row[0]) if row else None

    def set_source_state(self, source: str, value: str) -> None:
        with self._lock:
            self._begin()
            self._db.execute(
                "INSERT OR REPLACE INTO sources (name, value) VALUES (?, ?)", (source, value)
            )

    # durability -------------------------------------------------------------
    def flush(self) -> None:
        wal = self._wal_sync
        with self._lock:
            if self._in_batch:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    raise StoreError(f"{self.path}: commit failed: {exc}") from None
                self._in_batch = False
                if wal is not None:
                    wal.committed()
            through = 0 if wal is None else wal.commits
            outbox_ids = self._max_outbox()
        if wal is not None:
            # Outside the lock: appends, reads and commits go on during the fsync.
            try:
                wal.sync_through(through, self._sync_wal)
            except OSError as exc:
                raise StoreError(
                    f"{self.path}: syncing the write-ahead log failed: {exc}"
                ) from None
        # Ids only grow (AUTOINCREMENT): a later flush may have got here first.
        self._durable_outbox = max(self._durable_outbox, outbox_ids)

    def _sync_wal(self) -> None:
        assert self._wal_sync is not None
        self._wal_sync.fsync()

    def close(self) -> None:
        with self._lock:
            self.flush()
            self._db.close()
