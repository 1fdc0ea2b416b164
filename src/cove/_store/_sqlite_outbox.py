"""The SQLite side of dead letters, outbox health and retention: plain functions over
the store's connection, called by ``SqliteStore`` under its lock inside its open batch."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ._base import DeadLetter, JournalRetention, OutboxHealth, RecentEffect
from ._rules import PRUNE_CHUNK, transport_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    module TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    transport TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    dead_ms INTEGER NOT NULL,
    last_error TEXT NOT NULL
);
-- Covers outbox_health: status and metrics read it per request, under the store's lock,
-- so a backlog of 200,000 must not mean a scan of the table (200 ms -> ~40 ms).
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (done, module, next_at_ms, attempts);
"""

# Columns added after the first release: a store written before them gains them on open,
# and its old rows read as written at time 0 (old enough for any retention).
ADDED_COLUMNS = {
    "journal": ("at_ms",),
    "outbox": ("created_ms", "done_ms"),
}


def migrate(db: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    db.executescript(SCHEMA)


def move_to_dead(db: sqlite3.Connection, entry_id: int, error: str, now_ms: int) -> None:
    row = db.execute(
        "SELECT key, module, kind, body, attempts, created_ms FROM outbox WHERE id = ? AND done = 0",
        (entry_id,),
    ).fetchone()
    if row is None:
        return
    key, module, kind, body, attempts, created_ms = row
    db.execute(
        "INSERT INTO dead_letters (key, module, kind, body, transport, attempts, created_ms, "
        "dead_ms, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            module,
            kind,
            body,
            transport_of(kind, body),
            attempts + 1,
            created_ms,
            now_ms,
            error[:500],
        ),
    )
    db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))


def dead_letters(
    db: sqlite3.Connection, module: str | None, limit: int, bodies: bool
) -> list[DeadLetter]:
    body = "body" if bodies else "NULL"
    columns = f"id, key, module, kind, {body}, transport, attempts, created_ms, dead_ms, last_error"
    if module is None:
        rows = db.execute(
            f"SELECT {columns} FROM dead_letters ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
    else:
        rows = db.execute(
            f"SELECT {columns} FROM dead_letters WHERE module = ? ORDER BY id LIMIT ?",
            (module, limit),
        ).fetchall()
    return [DeadLetter(*row) for row in rows]


def retry_dead(db: sqlite3.Connection, ids: Sequence[int], now_ms: int) -> list[int]:
    moved = []
    for dead_id in ids:
        row = db.execute(
            "SELECT key, module, kind, body FROM dead_letters WHERE id = ?", (dead_id,)
        ).fetchone()
        if row is None:
            continue
        # A new outbox id: it leaves only after the flush that makes the move durable.
        db.execute(
            "INSERT INTO outbox (key, module, kind, body, created_ms) VALUES (?, ?, ?, ?, ?)",
            (*row, now_ms),
        )
        db.execute("DELETE FROM dead_letters WHERE id = ?", (dead_id,))
        moved.append(dead_id)
    return moved


def drop_dead(db: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    return [
        dead_id
        for dead_id in ids
        if db.execute("DELETE FROM dead_letters WHERE id = ?", (dead_id,)).rowcount
    ]


def recent_effects(db: sqlite3.Connection, module: str, limit: int) -> list[RecentEffect]:
    rows = db.execute(
        "SELECT id, kind, body, done, attempts, created_ms, done_ms, last_error FROM outbox "
        "WHERE module = ? ORDER BY id DESC LIMIT ?",
        (module, limit),
    ).fetchall()
    return [
        RecentEffect(i, kind, body, bool(done), attempts, created, done_ms, error or "")
        for i, kind, body, done, attempts, created, done_ms, error in rows
    ]


def outbox_health(db: sqlite3.Connection) -> dict[str, OutboxHealth]:
    pending = db.execute(
        "SELECT module, COUNT(*), MAX(attempts), MIN(CASE WHEN attempts > 0 THEN next_at_ms END) "
        "FROM outbox WHERE done = 0 GROUP BY module"
    ).fetchall()
    errors = {}
    for module, *_ in pending:
        # The latest retry time is the most recent failure; unfailed rows sort first (0).
        row = db.execute(
            "SELECT last_error FROM outbox WHERE done = 0 AND module = ? AND attempts > 0 "
            "ORDER BY next_at_ms DESC LIMIT 1",
            (module,),
        ).fetchone()
        errors[module] = "" if row is None else row[0] or ""
    dead = dict(db.execute("SELECT module, COUNT(*) FROM dead_letters GROUP BY module").fetchall())
    health = {
        module: OutboxHealth(
            int(count), int(attempts), errors.get(module, ""), next_at, dead.get(module, 0)
        )
        for module, count, attempts, next_at in pending
    }
    for module, count in dead.items():
        health.setdefault(module, OutboxHealth(dead_letters=int(count)))
    return health


def prune_journal(
    db: sqlite3.Connection, retention: JournalRetention, floor_seq: int, journal_bytes: int
) -> tuple[int, int]:
    """One step: (entries deleted, their bytes). Walks from the oldest entry and stops at
    the first one that is young enough and fits, or at ``floor_seq``."""
    over = journal_bytes - retention.max_bytes
    rows = db.execute(
        "SELECT seq, at_ms, length(id) + length(body) FROM journal WHERE seq <= ? "
        "ORDER BY seq LIMIT ?",
        (floor_seq, PRUNE_CHUNK),
    ).fetchall()
    last, count, freed = 0, 0, 0
    for seq, at_ms, size in rows:
        if at_ms >= retention.before_ms and freed >= over:
            break
        last, count, freed = seq, count + 1, freed + size
    if count:
        db.execute("DELETE FROM journal WHERE seq <= ?", (last,))
    return count, freed


def prune_dead(db: sqlite3.Connection, before_ms: int) -> int:
    return db.execute(
        "DELETE FROM dead_letters WHERE id IN "
        "(SELECT id FROM dead_letters WHERE dead_ms < ? ORDER BY id LIMIT ?)",
        (before_ms, PRUNE_CHUNK),
    ).rowcount


def prune_delivered(db: sqlite3.Connection, before_ms: int) -> int:
    return db.execute(
        "DELETE FROM outbox WHERE id IN "
        "(SELECT id FROM outbox WHERE done = 1 AND done_ms < ? LIMIT ?)",
        (before_ms, PRUNE_CHUNK),
    ).rowcount
