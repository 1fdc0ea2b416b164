"""The PostgreSQL side of the outbox's reads, retries, dead letters, health and retention: plain functions over
the store's connection, called by ``PostgresStore`` under its lock inside its open batch
(the twin of ``_sqlite_outbox``, with the same rules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ._base import DeadLetter, JournalRetention, OutboxEntry, OutboxHealth, RecentEffect
from ._rules import PRUNE_CHUNK, transport_of

Connection = psycopg.Connection[tuple[Any, ...]]


def pending_alarms(db: Connection, module: str) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM outbox WHERE module = %s AND kind = 'alarm' AND NOT done",
        (module,),
    ).fetchone()
    return int(row[0]) if row else 0


def pending_effects(
    db: Connection, now_ms: int, durable: int, modules: list[str] | None, limit: int
) -> list[OutboxEntry]:
    """Due entries up to id ``durable`` (committed), of ``modules`` (None: every module)."""
    rows = db.execute(
        "SELECT id, key, module, kind, body, attempts, created_ms FROM outbox "
        "WHERE NOT done AND next_at_ms <= %s AND id <= %s "
        "AND (%s::text[] IS NULL OR module = ANY(%s::text[])) ORDER BY id LIMIT %s",
        (now_ms, durable, modules, modules, limit),
    ).fetchall()
    return [OutboxEntry(*row) for row in rows]


def retry_later(db: Connection, entry_id: int, next_at_ms: int, error: str) -> None:
    db.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_at_ms = %s, last_error = %s WHERE id = %s",
        (next_at_ms, error[:500], entry_id),
    )


def move_to_dead(db: Connection, entry_id: int, error: str, now_ms: int) -> None:
    row = db.execute(
        "DELETE FROM outbox WHERE id = %s AND NOT done "
        "RETURNING key, module, kind, body, attempts, created_ms",
        (entry_id,),
    ).fetchone()
    if row is None:
        return
    key, module, kind, body, attempts, created_ms = row
    db.execute(
        "INSERT INTO dead_letters (key, module, kind, body, transport, attempts, created_ms, "
        "dead_ms, last_error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
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


def recent_effects(db: Connection, module: str, limit: int) -> list[RecentEffect]:
    rows = db.execute(
        "SELECT id, kind, body, done, attempts, created_ms, done_ms, last_error FROM outbox "
        "WHERE module = %s ORDER BY id DESC LIMIT %s",
        (module, limit),
    ).fetchall()
    return [
        RecentEffect(i, kind, body, bool(done), attempts, created, done_ms, error or "")
        for i, kind, body, done, attempts, created, done_ms, error in rows
    ]


def dead_letters(db: Connection, module: str | None, limit: int, bodies: bool) -> list[DeadLetter]:
    rows = db.execute(
        "SELECT id, key, module, kind, CASE WHEN %s THEN body END, transport, attempts, "
        "created_ms, dead_ms, last_error FROM dead_letters "
        "WHERE %s::text IS NULL OR module = %s ORDER BY id LIMIT %s",
        (bodies, module, module, limit),
    ).fetchall()
    return [DeadLetter(*row) for row in rows]


def retry_dead(db: Connection, ids: Sequence[int], now_ms: int) -> list[int]:
    moved = db.execute(
        "WITH gone AS (DELETE FROM dead_letters WHERE id = ANY(%s) "
        "RETURNING id, key, module, kind, body), "
        "queued AS (INSERT INTO outbox (key, module, kind, body, created_ms) "
        "SELECT key, module, kind, body, %s FROM gone ORDER BY id) "
        "SELECT id FROM gone",
        (list(ids), now_ms),
    ).fetchall()
    found = {int(row[0]) for row in moved}
    # A new outbox id: it leaves only after the flush that makes the move durable.
    return [dead_id for dead_id in ids if dead_id in found]


def drop_dead(db: Connection, ids: Sequence[int]) -> list[int]:
    rows = db.execute(
        "DELETE FROM dead_letters WHERE id = ANY(%s) RETURNING id", (list(ids),)
    ).fetchall()
    found = {int(row[0]) for row in rows}
    return [dead_id for dead_id in ids if dead_id in found]


def outbox_health(db: Connection) -> dict[str, OutboxHealth]:
    pending = db.execute(
        "SELECT module, COUNT(*), MAX(attempts), MIN(next_at_ms) FILTER (WHERE attempts > 0), "
        # The latest retry time is the most recent failure.
        "(ARRAY_AGG(last_error ORDER BY next_at_ms DESC) FILTER (WHERE attempts > 0))[1] "
        "FROM outbox WHERE NOT done GROUP BY module"
    ).fetchall()
    dead: dict[str, int] = {
        str(module): int(count)
        for module, count in db.execute("SELECT module, COUNT(*) FROM dead_letters GROUP BY module")
    }
    health = {
        module: OutboxHealth(int(count), int(attempts), error or "", next_at, dead.get(module, 0))
        for module, count, attempts, next_at, error in pending
    }
    for module, count in dead.items():
        health.setdefault(module, OutboxHealth(dead_letters=count))
    return health


def prune_journal(
    db: Connection, retention: JournalRetention, floor_seq: int, journal_bytes: int
) -> tuple[int, int]:
    """One step: (entries deleted, their bytes). Walks from the oldest entry and stops at
    the first one that is young enough and fits, or at ``floor_seq``."""
    over = journal_bytes - retention.max_bytes
    rows = db.execute(
        "SELECT seq, at_ms, char_length(id) + char_length(body) FROM journal WHERE seq <= %s "
        "ORDER BY seq LIMIT %s",
        (floor_seq, PRUNE_CHUNK),
    ).fetchall()
    last, count, freed = 0, 0, 0
    for seq, at_ms, size in rows:
        if at_ms >= retention.before_ms and freed >= over:
            break
        last, count, freed = seq, count + 1, freed + size
    if count:
        db.execute("DELETE FROM journal WHERE seq <= %s", (last,))
    return count, freed


def prune_dead(db: Connection, before_ms: int) -> int:
    return db.execute(
        "DELETE FROM dead_letters WHERE id IN "
        "(SELECT id FROM dead_letters WHERE dead_ms < %s ORDER BY id LIMIT %s)",
        (before_ms, PRUNE_CHUNK),
    ).rowcount


def prune_delivered(db: Connection, before_ms: int) -> int:
    return db.execute(
        "DELETE FROM outbox WHERE id IN "
        "(SELECT id FROM outbox WHERE done AND done_ms < %s LIMIT %s)",
        (before_ms, PRUNE_CHUNK),
    ).rowcount
