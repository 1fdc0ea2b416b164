"""Leases with fencing on a real PostgreSQL: one engine holds a module's lease at a time, and
an engine that paused past its lease cannot commit after another took the module over."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import psycopg
import pytest

from cove._store._leases import LeaseTable
from cove._store._postgres import PostgresStore
from cove.errors import FencedError
from tests.helpers.postgres import PostgresServer

TTL_MS = 300
_OPEN: list[LeaseTable | PostgresStore] = []


@pytest.fixture(autouse=True)
def _close_all() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _leases(dsn: str, password: str, engine: str) -> LeaseTable:
    connect = partial(psycopg.connect, dsn, password=password, autocommit=True)
    table = LeaseTable(connect, engine, TTL_MS, "test")
    _OPEN.append(table)
    return table


def _engine(
    dsn: str, password: str, engine: str
) -> tuple[LeaseTable, PostgresStore, dict[str, int]]:
    """An engine's lease table and fenced store; the dict is what it holds (name: epoch)."""
    held: dict[str, int] = {}
    store = PostgresStore(dsn, password=password)
    _OPEN.append(store)
    store.fence(engine, held.get)
    return _leases(dsn, password, engine), store, held


def _rows(dsn: str, password: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, password=password) as db:
        return db.execute(query).fetchall()


def test_a_lease_is_held_by_one_engine_until_it_expires(postgres: PostgresServer) -> None:
    dsn = postgres.database()
    PostgresStore(dsn, password=postgres.password).close()  # the schema
    a = _leases(dsn, postgres.password, "a")
    b = _leases(dsn, postgres.password, "b")
    assert 1 == a.acquire("m")
    assert b.acquire("m") is None
    assert {"m": 1} == a.renew({"m": 1})
    time.sleep(TTL_MS / 1000 + 0.1)
    assert 2 == b.acquire("m")
    assert {} == a.renew({"m": 1}), "a lease taken over is not renewed"
    assert {"engine": "b", "epoch": 2, "live": True} == vars(b.holders()["m"])
    b.release(["m"])
    assert 3 == a.acquire("m"), "a released lease is free at once, at a new epoch"


def test_a_paused_engine_cannot_commit_after_its_lease_was_taken(
    postgres: PostgresServer,
) -> None:
    """Engine a commits under epoch 1, pauses past its lease; b takes the module at epoch 2
    and commits; a's late commit raises FencedError and writes nothing, while a's store
    keeps working for the module it still holds. The audit names each commit's epoch."""
    dsn, password = postgres.database(), postgres.password
    leases_a, store_a, held_a = _engine(dsn, password, "a")
    leases_b, store_b, held_b = _engine(dsn, password, "b")
    held_a["m"] = leases_a.acquire("m") or 0
    held_a["other"] = leases_a.acquire("other") or 0
    store_a.commit("m", 1, {"count": b"1"}, [("e1", [])])
    store_a.flush()

    time.sleep(TTL_MS / 1000 + 0.1)  # a is paused: its lease on m expires
    held_a["other"] = leases_a.renew({"other": held_a["other"]})["other"]
    held_b["m"] = leases_b.acquire("m") or 0
    assert 2 == held_b["m"]
    store_b.refresh_size("m")
    store_b.commit("m", 2, {"count": b"2"}, [("e2", [])])
    store_b.flush()

    with pytest.raises(FencedError, match="epoch 1 of engine 'a' is stale"):
        store_a.commit("m", 2, {"count": b"99"}, [("e2", [])])
    store_a.commit("other", 5, {"k": b"v"}, [("e5", [])])
    store_a.flush()
    assert store_a.stopped() is None
    assert b"2" == store_b.get("m", "count")
    assert b"v" == store_a.get("other", "k")
    assert {("m", 2)} == set(
        _rows(dsn, password, "SELECT module, seq FROM cursors WHERE module = 'm'")
    )
    audit = _rows(dsn, password, "SELECT module, epoch, engine, seq FROM commit_audit ORDER BY id")
    assert [("m", 1, "a", 1), ("m", 2, "b", 2), ("other", 1, "a", 5)] == audit


def test_a_takeover_waits_for_the_commit_in_flight(postgres: PostgresServer) -> None:
    """a's commit is in its open batch when its lease expires: b's takeover waits for that
    batch (up to its lock timeout, then tries at its next round), and once the batch landed
    b takes the module and reads a's commit (nothing between the check and the commit)."""
    dsn, password = postgres.database(), postgres.password
    leases_a, store_a, held_a = _engine(dsn, password, "a")
    leases_b, _, _ = _engine(dsn, password, "b")
    held_a["m"] = leases_a.acquire("m") or 0
    store_a.commit("m", 7, {"count": b"7"}, [("e7", [])])  # checked and locked, not flushed
    time.sleep(TTL_MS / 1000 + 0.1)
    started = time.monotonic()
    assert leases_b.acquire("m") is None, "the takeover must wait for the batch holding the fence"
    assert time.monotonic() - started >= TTL_MS / 4 / 1000 * 0.9, "it waited its lock timeout"
    store_a.flush()
    assert 2 == leases_b.acquire("m")
    assert [(7,)] == _rows(dsn, password, "SELECT seq FROM cursors WHERE module = 'm'")
