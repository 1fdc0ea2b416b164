"""What only the PostgreSQL backend has: a server to reach, a password, a connection that
can drop, a schema shared by engines (the shared contract is test_store.py)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from cove._events import Custom, Event
from cove._store._base import NewEffect
from cove._store._postgres import PostgresStore
from cove._store._postgres_schema import MIGRATIONS
from cove.errors import StoreError
from tests.helpers import postgres as postgres_helper
from tests.helpers.postgres import PostgresServer


def ev(event_id: str) -> Event:
    return Event(Custom("x", "test", "{}"), id=event_id, accepted_at_ms=1)


def test_a_wrong_password_names_the_server_and_never_the_password(
    postgres: PostgresServer,
) -> None:
    dsn = postgres.database()
    with pytest.raises(StoreError, match="cannot open the store") as info:
        PostgresStore(dsn, password="not-" + postgres.password)
    assert f"postgresql://127.0.0.1:{postgres.port}/" in str(info.value)
    assert postgres.password not in str(info.value)


def test_a_dropped_connection_stops_the_store_and_keeps_what_was_flushed(
    postgres: PostgresServer,
) -> None:
    """The server lost the open batch: the store refuses every later call rather than
    commit a batch with a hole; a reopened store has exactly what was flushed."""
    dsn = postgres.database()
    store = PostgresStore(dsn, password=postgres.password)
    store.append([ev("a")])
    store.flush()
    store.append([ev("b")])
    pid = store._db.info.backend_pid
    with psycopg.connect(dsn, password=postgres.password, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError, match="failed"):
        store.append([ev("c")])
    with pytest.raises(StoreError, match="stopped after an error"):
        store.flush()
    store.close()
    again = PostgresStore(dsn, password=postgres.password)
    assert ["a"] == [e.event.id for e in again.read(0, 10)]
    again.close()


def test_engines_opening_one_database_at_once_migrate_it_once(postgres: PostgresServer) -> None:
    dsn = postgres.database()
    opened: list[PostgresStore] = []
    threads = [
        threading.Thread(
            target=lambda: opened.append(PostgresStore(dsn, password=postgres.password))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 4 == len(opened)
    with psycopg.connect(dsn, password=postgres.password) as db:
        migrations = [(n,) for n in range(1, len(MIGRATIONS) + 1)]
        assert migrations == db.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    for store in opened:
        store.close()


def test_text_postgres_cannot_hold_is_refused_before_it_reaches_the_batch(
    postgres: PostgresServer,
) -> None:
    """A NUL in a key or an effect body fails that commit alone, naming the module; the
    batch, and the events committed before it, go on to the flush."""
    store = PostgresStore(postgres.database(), password=postgres.password)
    store.commit("m", 1, {"a": b"1"}, [])
    with pytest.raises(StoreError, match="committing events of 'm' failed: the state key"):
        store.commit("m", 2, {"b\x00": b"2"}, [])
    with pytest.raises(StoreError, match="the effect body holds a NUL"):
        store.commit("m", 2, {}, [("ev2", [NewEffect("message", "x\x00")])])
    store.flush()
    assert (b"1", 1, ["a"]) == (store.get("m", "a"), store.cursor("m"), store.list_keys("m", ""))
    store.close()


def test_marking_an_effect_delivered_never_waits_for_a_commit_in_progress(
    postgres: PostgresServer,
) -> None:
    """The outbox worker marks deliveries on the event loop: the mark waits in memory for
    the flush instead of for the connection, which a module's commit may be holding."""
    store = PostgresStore(postgres.database(), password=postgres.password)
    store.commit("m", 1, {}, [("ev1", [NewEffect("message", "x")])])
    store.flush()
    (entry,) = store.pending_effects(now_ms=0, limit=10)
    held, release = threading.Event(), threading.Event()

    def long_commit() -> None:
        with store._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=long_commit)
    thread.start()
    held.wait(10)
    marking = threading.Thread(target=store.effect_done, args=(entry.id,))
    marking.start()
    marking.join(10)
    finished_while_held = not marking.is_alive()
    release.set()
    thread.join()
    marking.join()
    assert finished_while_held, "effect_done waited for the commit in progress"
    assert [] == store.pending_effects(now_ms=0, limit=10)
    store.flush()
    assert 0 == sum(h.backlog for h in store.outbox_health().values())
    store.close()


def test_an_idle_store_whose_connection_dropped_connects_again(postgres: PostgresServer) -> None:
    """With no batch open nothing was lost: the call that met the dropped connection fails,
    the next one connects again and finds everything flushed."""
    dsn = postgres.database()
    store = PostgresStore(dsn, password=postgres.password)
    store.append([ev("a")])
    store.commit("m", 1, {"k": b"v"}, [])
    store.flush()
    with psycopg.connect(dsn, password=postgres.password, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cove'"
        )
    with pytest.raises(StoreError, match="reading the head failed"):
        store.head()
    assert (1, b"v", 1) == (store.head(), store.get("m", "k"), store.cursor("m"))
    assert store.stopped() is None
    store.append([ev("b")])
    store.flush()
    assert ["a", "b"] == [e.event.id for e in store.read(0, 10)]
    store.close()


def test_a_machine_without_postgresql_gets_told_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session fixture fails the PostgreSQL tests with this message (not a skip)."""
    monkeypatch.setattr(postgres_helper.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(postgres_helper.shutil, "which", lambda name: None)
    server = PostgresServer()
    with pytest.raises(RuntimeError, match="`make postgres` installs Debian's package"):
        server.start()
    server.stop()
