"""An engine paused in the middle of a commit, on a real PostgreSQL: its open batch must not
hold the fence's locks past its lease, and when it resumes it must not commit.

The server arms ``idle_in_transaction_session_timeout`` only when it sends ReadyForQuery
(after a Sync); a client paused inside a pipeline (statements sent, no Sync yet) leaves its
session "active" and never idle, so that timeout never ends it. The other engines end it.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any

import psycopg
import pytest

from cove._store._leases import LeaseTable
from cove._store._postgres import PostgresStore
from cove.errors import StoreError
from tests.helpers.postgres import PostgresServer

TTL_MS = 600


def _rows(dsn: str, password: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, password=password) as db:
        return db.execute(query).fetchall()


def _leases(dsn: str, password: str, engine: str) -> LeaseTable:
    connect = partial(
        psycopg.connect, dsn, password=password, autocommit=True, application_name=f"cove:{engine}"
    )
    return LeaseTable(connect, engine, TTL_MS, "test")


def _locks_held(dsn: str, password: str, application: str) -> int:
    return int(
        _rows(
            dsn,
            password,
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE a.application_name = '{application}' AND l.locktype = 'transactionid'",
        )[0][0]
    )


def test_a_batch_paused_inside_a_pipeline_is_ended_by_the_others(
    postgres: PostgresServer,
) -> None:
    """Engine a's batch holds m's lease row and sits inside a pipeline past its lease and
    past the idle timeout (which does not fire there): b's round ends a's session and takes
    m; a, resumed, finds its batch gone (nothing of it committed) and reopens its store."""
    dsn, password = postgres.database(), postgres.password
    store_a = PostgresStore(dsn, password=password, idle_batch_ms=TTL_MS // 2, engine_id="a")
    held_a: dict[str, int] = {}
    store_a.fence("a", held_a.get)
    leases_a, leases_b = _leases(dsn, password, "a"), _leases(dsn, password, "b")
    try:
        leases_a.heartbeat()
        held_a["m"] = leases_a.acquire("m") or 0
        store_a.commit("m", 1, {"count": b"1"}, [("e1", [])])  # the lease row is locked
        db = store_a._db
        with pytest.raises(psycopg.Error), db.pipeline():
            db.execute("SELECT 1")  # sent, no Sync: the engine is paused here
            time.sleep(TTL_MS / 1000 + 0.2)
            assert 1 == _locks_held(dsn, password, "cove:a"), "the idle timeout did not end it"
            taken: list[int | None] = []

            def round_of_b() -> None:
                leases_b.heartbeat()
                leases_b.end_stuck()
                taken.append(leases_b.acquire("m"))

            thread = threading.Thread(target=round_of_b, daemon=True)
            thread.start()
            thread.join(5)
            assert not thread.is_alive(), "b's round is blocked by a's paused batch"
            assert [2] == taken
            assert 0 == _locks_held(dsn, password, "cove:a")
        # a resumes: the store meets its lost batch and stops; nothing of it was committed.
        with pytest.raises(StoreError):
            store_a.flush()
        assert store_a.stopped() is not None
        assert [] == _rows(dsn, password, "SELECT * FROM commit_audit")
        assert [] == _rows(dsn, password, "SELECT * FROM state")
        store_a.reopen()
        assert 0 == store_a.cursor("m")
        assert store_a.stopped() is None
    finally:
        leases_a.close()
        leases_b.close()
        store_a.close()


def test_a_live_engine_s_old_batch_is_not_ended(postgres: PostgresServer) -> None:
    """An engine that still says it is alive keeps its sessions, however old its batch."""
    dsn, password = postgres.database(), postgres.password
    store_a = PostgresStore(dsn, password=password, engine_id="a")
    held_a: dict[str, int] = {}
    store_a.fence("a", held_a.get)
    leases_a, leases_b = _leases(dsn, password, "a"), _leases(dsn, password, "b")
    try:
        leases_a.heartbeat()
        held_a["m"] = leases_a.acquire("m") or 0
        store_a.commit("m", 1, {"count": b"1"}, [("e1", [])])
        time.sleep(TTL_MS / 1000)
        leases_a.heartbeat()
        assert [] == leases_b.end_stuck()
        store_a.flush()
        assert [(1,)] == _rows(dsn, password, "SELECT seq FROM cursors WHERE module = 'm'")
    finally:
        leases_a.close()
        leases_b.close()
        store_a.close()


def test_renewals_are_not_blocked_by_the_engine_s_own_batch(postgres: PostgresServer) -> None:
    """The fence's lock on a lease row (a batch in flight) lets its holder renew it: a batch
    held up (behind a paused engine's journal lock, say) must not cost its own leases."""
    dsn, password = postgres.database(), postgres.password
    store_a = PostgresStore(dsn, password=password, engine_id="a")
    held_a: dict[str, int] = {}
    store_a.fence("a", held_a.get)
    leases_a = _leases(dsn, password, "a")
    try:
        held_a["m"] = leases_a.acquire("m") or 0
        store_a.commit("m", 1, {"count": b"1"}, [("e1", [])])  # the lease row is locked
        before = _rows(dsn, password, "SELECT expires_ms FROM leases")[0][0]
        time.sleep(0.05)
        assert {"m": 1} == leases_a.renew(dict(held_a))
        after = _rows(dsn, password, "SELECT expires_ms FROM leases")[0][0]
        assert after > before, "the renewal waited for the batch and gave up"
        store_a.flush()
    finally:
        leases_a.close()
        store_a.close()


def test_ending_sessions_without_the_privilege_says_which_grant(postgres: PostgresServer) -> None:
    """An engine whose role may not end the paused engine's session gets one clear error
    naming the grant (the placement round logs it and goes on)."""
    dsn, password = postgres.database(), postgres.password
    store_a = PostgresStore(dsn, password=password, engine_id="a")  # the superuser's session
    held_a: dict[str, int] = {}
    store_a.fence("a", held_a.get)
    leases_a = _leases(dsn, password, "a")
    role = f"lesser_{dsn.rsplit('/', 1)[1]}"
    with psycopg.connect(dsn, password=password, autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'lesser'")
        db.execute(f"GRANT pg_read_all_stats TO {role}")
        db.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
    leases_b = _leases(dsn.replace("cove@", f"{role}@"), "lesser", "b")
    try:
        leases_a.heartbeat()
        held_a["m"] = leases_a.acquire("m") or 0
        store_a.commit("m", 1, {"count": b"1"}, [("e1", [])])
        time.sleep(TTL_MS / 1000 + 0.2)  # a is silent, its batch open
        with pytest.raises(StoreError, match="pg_signal_backend"):
            leases_b.end_stuck()
    finally:
        leases_a.close()
        leases_b.close()
        store_a.close()
