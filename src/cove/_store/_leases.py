"""Leases with fencing epochs in PostgreSQL: which engine runs each module (or role) now.

Design note: a lease is a row (name, engine, epoch, expires_ms) in the same
database as the state, not a JetStream KV entry, because the fence must be
checked in the very transaction that commits: ``PostgresStore.commit`` locks
the lease row ``FOR SHARE`` and compares its epoch, so a takeover (an UPDATE of
that row) either waits for the commit to land or makes it fail. With a KV
store the check and the commit would be two systems and a pause between them
would let a stale engine write. Every time is the server's clock
(``clock_timestamp()``), so engines on machines whose clocks disagree still
agree on when a lease expired. Each statement touches one row, so this
connection never holds two lease locks at once and cannot deadlock with a
commit that holds some of them.

A paused engine (SIGSTOP, a long GC) can leave its batch inside a pipeline,
statements sent and no Sync: the server then never arms
``idle_in_transaction_session_timeout``, and the batch holds its lease rows and
the journal's lock for as long as the pause lasts. So every round each engine
ends the sessions (named ``cove:<engine>``) of engines that stopped saying they
are alive and whose transaction is older than half a lease (``end_stuck``); a
live engine never keeps a batch open that long. Lock waits are bounded
(``lock_timeout``): a takeover that meets a locked row gives up until the next
round, and a renewal that cannot lock keeps the lease for the next round to
settle (the fence refuses its commits if it was lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from ..errors import StoreError

NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
Connect = Callable[[], "psycopg.Connection[tuple[Any, ...]]"]


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: ``live`` is False once it expired (anyone may take it)."""

    engine: str
    epoch: int
    live: bool


class LeaseTable:
    """One engine's view of the lease table, on a connection of its own (autocommit)."""

    def __init__(self, connect: Connect, engine: str, ttl_ms: int, where: str) -> None:
        self.engine = engine
        self.ttl_ms = ttl_ms
        self.stuck_ms = ttl_ms // 2
        """An engine silent this long, with a transaction open this long, is stuck."""
        self._where = where
        self._connect = connect
        self._db: psycopg.Connection[tuple[Any, ...]] | None = None
        self._lock = threading.Lock()

    def _run(self, what: str, fn: Callable[[psycopg.Connection[tuple[Any, ...]]], Any]) -> Any:
        with self._lock:
            try:
                if self._db is None or self._db.closed:
                    self._db = self._connect()
                    self._db.execute(f"SET lock_timeout = {max(self.ttl_ms // 4, 1)}")
                return fn(self._db)
            except psycopg.Error as exc:
                if self._db is not None:
                    self._db.close()
                self._db = None  # connect again at the next call (the server may be back)
                raise StoreError(f"{self._where}: {what} failed: {exc}") from None

    def heartbeat(self) -> int:
        """Say this engine is alive; how many engines are (seen within one ttl)."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> int:
            db.execute(
                f"INSERT INTO cluster_engines (engine, seen_ms) VALUES (%s, {NOW_MS}) "
                "ON CONFLICT (engine) DO UPDATE SET seen_ms = EXCLUDED.seen_ms",
                (self.engine,),
            )
            row = db.execute(
                f"SELECT COUNT(*) FROM cluster_engines WHERE seen_ms > {NOW_MS} - %s",
                (self.ttl_ms,),
            ).fetchone()
            return int(row[0]) if row else 1

        return int(self._run("the heartbeat", step))

    def acquire(self, name: str) -> int | None:
        """Take ``name`` if it is free or expired (a new epoch); its epoch, else None."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> int | None:
            try:
                row = db.execute(
                    "INSERT INTO leases (name, engine, epoch, expires_ms) "
                    f"VALUES (%s, %s, 1, {NOW_MS} + %s) ON CONFLICT (name) DO UPDATE "
                    "SET engine = EXCLUDED.engine, epoch = leases.epoch + 1, "
                    "expires_ms = EXCLUDED.expires_ms "
                    f"WHERE leases.expires_ms <= {NOW_MS} RETURNING epoch",
                    (name, self.engine, self.ttl_ms),
                ).fetchone()
            except psycopg.errors.LockNotAvailable:
                return None  # a batch still holds it under the fence: the next round tries
            return None if row is None else int(row[0])

        result: int | None = self._run(f"acquiring the lease of {name!r}", step)
        return result

    def renew(self, held: dict[str, int]) -> dict[str, int]:
        """Extend each lease still held at its epoch; the ones still held (name: epoch)."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> dict[str, int]:
            kept = {}
            for name, epoch in held.items():
                try:
                    row = db.execute(
                        f"UPDATE leases SET expires_ms = {NOW_MS} + %s "
                        "WHERE name = %s AND engine = %s AND epoch = %s RETURNING epoch",
                        (self.ttl_ms, name, self.engine, epoch),
                    ).fetchone()
                except psycopg.errors.LockNotAvailable:
                    row = (epoch,)  # a takeover holds the row: the next round settles it
                if row is not None:
                    kept[name] = epoch
            return kept

        result: dict[str, int] = self._run("renewing leases", step)
        return result

    def end_stuck(self) -> list[tuple[str, int]]:
        """End the transactions of engines silent for ``stuck_ms`` that are older than that
        (a paused engine's batch); the (engine, session pid) ended. Needs the same role as
        the other engines' sessions, or ``pg_read_all_stats`` and ``pg_signal_backend``."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[str, int]]:
            try:
                # Chosen first (MATERIALIZED), so the planner cannot end a session before
                # every condition on it held.
                rows = db.execute(
                    "WITH stuck AS MATERIALIZED (SELECT e.engine, a.pid FROM cluster_engines e "
                    "JOIN pg_stat_activity a ON a.application_name = left('cove:' || e.engine, 63) "
                    "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
                    f"AND e.engine <> %s AND e.seen_ms < {NOW_MS} - %s "
                    "AND a.xact_start < clock_timestamp() - make_interval(secs => %s)) "
                    "SELECT engine, pid FROM stuck WHERE pg_terminate_backend(pid)",
                    (self.engine, self.stuck_ms, self.stuck_ms / 1000),
                ).fetchall()
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreError(
                    f"{self._where}: cannot end a paused engine's sessions ({exc}): run every "
                    "engine as the same role, or grant this one's role pg_read_all_stats and "
                    "pg_signal_backend"
                ) from None
            return [(str(engine), int(pid)) for engine, pid in rows]

        result: list[tuple[str, int]] = self._run("ending paused engines' sessions", step)
        return result

    def release(self, names: Iterable[str]) -> None:
        """Give leases up at once (they expire now; the epoch stays, the next taker bumps it)."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> None:
            for name in names:
                db.execute(
                    "UPDATE leases SET expires_ms = 0 WHERE name = %s AND engine = %s",
                    (name, self.engine),
                )

        self._run("releasing leases", step)

    def leave(self) -> None:
        """This engine stops: no longer counted among the live ones."""
        self._run(
            "leaving the cluster",
            lambda db: db.execute("DELETE FROM cluster_engines WHERE engine = %s", (self.engine,)),
        )

    def holders(self) -> dict[str, Holder]:
        """Every lease and who holds it."""

        def step(db: psycopg.Connection[tuple[Any, ...]]) -> dict[str, Holder]:
            rows = db.execute(
                f"SELECT name, engine, epoch, expires_ms > {NOW_MS} FROM leases"
            ).fetchall()
            return {str(n): Holder(str(e), int(ep), bool(live)) for n, e, ep, live in rows}

        result: dict[str, Holder] = self._run("reading leases", step)
        return result

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
