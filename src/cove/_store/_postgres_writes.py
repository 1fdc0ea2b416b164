"""The SQL of what a PostgreSQL batch writes: journal rows, an event's state and outbox
rows, cursors, delivered marks. Plain functions over the store's connection, called by
``PostgresStore`` under its lock inside its open batch, which owns when they commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

Connection = psycopg.Connection[tuple[Any, ...]]


def journal(db: Connection, ids: list[str], bodies: list[str], at_ms: list[int]) -> list[Any]:
    """Append events in this order, skipping ids already journaled; (seq, id) of the new."""
    return db.execute(
        "INSERT INTO journal (id, body, at_ms) "
        "SELECT id, body, at_ms FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
        "WITH ORDINALITY AS t(id, body, at_ms, n) ORDER BY n "
        "ON CONFLICT (id) DO NOTHING RETURNING seq, id",
        (ids, bodies, at_ms),
    ).fetchall()


def size_after(db: Connection, module: str, writes: Mapping[str, bytes | None], size: int) -> int:
    """``module``'s state size (now ``size``) once ``writes`` land."""
    old = db.execute(
        "SELECT key, octet_length(value) FROM state WHERE module = %s AND key = ANY(%s)",
        (module, list(writes)),
    ).fetchall()
    size -= sum(len(str(key).encode()) + int(length) for key, length in old)
    return size + sum(len(k.encode()) + len(v) for k, v in writes.items() if v is not None)


def event(
    db: Connection,
    module: str,
    writes: Mapping[str, bytes | None],
    queued: Sequence[tuple[str, str, str, int]],
    now_ms: int,
) -> None:
    """An event's state writes (None deletes) and outbox rows (key, kind, body, next_at_ms)."""
    deleted = [key for key, value in writes.items() if value is None]
    written = [(key, value) for key, value in writes.items() if value is not None]
    if deleted:
        db.execute("DELETE FROM state WHERE module = %s AND key = ANY(%s)", (module, deleted))
    if written:
        db.execute(
            "INSERT INTO state (module, key, value) "
            "SELECT %s, key, value FROM unnest(%s::text[], %s::bytea[]) AS t(key, value) "
            "ON CONFLICT (module, key) DO UPDATE SET value = EXCLUDED.value",
            (module, [key for key, _ in written], [value for _, value in written]),
        )
    if queued:
        db.execute(
            "INSERT INTO outbox (key, module, kind, body, created_ms, next_at_ms) "
            "SELECT key, %s, kind, body, %s, next_at_ms "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[]) "
            "WITH ORDINALITY AS t(key, kind, body, next_at_ms, n) ORDER BY n "
            "ON CONFLICT (key) DO NOTHING",
            (
                module,
                now_ms,
                [row[0] for row in queued],
                [row[1] for row in queued],
                [row[2] for row in queued],
                [row[3] for row in queued],
            ),
        )


def cursors(db: Connection, seqs: Mapping[str, int]) -> None:
    db.execute(
        "INSERT INTO cursors (module, seq) SELECT * FROM unnest(%s::text[], %s::bigint[]) "
        "ON CONFLICT (module) DO UPDATE SET seq = EXCLUDED.seq",
        (list(seqs), list(seqs.values())),
    )


def delivered(db: Connection, done: Mapping[int, int]) -> None:
    """Mark outbox entries delivered (id: when)."""
    db.execute(
        "UPDATE outbox SET done = TRUE, done_ms = t.ms "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS t(id, ms) WHERE outbox.id = t.id",
        (list(done), list(done.values())),
    )


def released(db: Connection, module: str, released: bool) -> None:
    """Mark ``module`` released (its cursor no longer holds the journal) or held again."""
    if released:
        db.execute("INSERT INTO released (module) VALUES (%s) ON CONFLICT DO NOTHING", (module,))
        return
    db.execute("DELETE FROM released WHERE module = %s", (module,))
    # A module that has not committed yet holds from the start.
    db.execute("INSERT INTO cursors (module, seq) VALUES (%s, 0) ON CONFLICT DO NOTHING", (module,))


def migration(
    db: Connection, module: str, version: str, writes: Mapping[str, bytes | None], now_ms: int
) -> None:
    """A state migration's writes and its new version, all or nothing (``psycopg.Error``).

    A savepoint here (unlike an event's commit): a migration is rare, and its failure must
    leave the open batch, other modules' events in it, as it was."""
    db.execute("SAVEPOINT migration")
    try:
        event(db, module, writes, (), now_ms)
        db.execute(
            "INSERT INTO state_versions (module, version) VALUES (%s, %s) "
            "ON CONFLICT (module) DO UPDATE SET version = EXCLUDED.version",
            (module, version),
        )
    except psycopg.Error:
        db.execute("ROLLBACK TO SAVEPOINT migration")
        raise
    db.execute("RELEASE SAVEPOINT migration")
