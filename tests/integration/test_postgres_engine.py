"""A real engine on a real PostgreSQL ([store] kind = "postgres"): modules count events in
state, sends leave the outbox with their idempotency keys, and kill -9 of the engine
process loses nothing and applies nothing twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cove import Custom, Event
from cove._control._health import readiness
from cove._store._postgres import PostgresStore
from cove.errors import StoreError
from cove.testing import MemoryTransport
from tests.helpers.engine import PROBE_CAPABILITIES, running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, REPO, write_engine_config, write_manifest
from tests.helpers.postgres import PostgresServer

PASSWORD_ENV = "COVE_TEST_PG_PASSWORD"
KILLS = 20


def _store_section(dsn: str) -> str:
    return (
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
    )


def _counters(directory: Path, count: int, transport: str) -> list[Path]:
    modules = []
    for i in range(count):
        module = write_manifest(
            directory / f"native{i}",
            f"native{i}",
            kind="python",
            entry="counter:Counter",
            required=["store", "messaging"],
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
            config={"transport": transport},
        )
        (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
        modules.append(module)
    return modules


async def test_modules_count_events_in_postgres_and_sends_keep_their_keys(
    tmp_path: Path,
    postgres: PostgresServer,
    probe_wasm: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A native and a wasm module count 50 events each; every send is delivered once with
    the key ``module:event:0``; a restarted engine finds the counts and the journal."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    modules = _counters(tmp_path, 1, "memory")
    modules.append(
        write_manifest(tmp_path / "wasm", "wasm", component=probe_wasm, optional=PROBE_CAPABILITIES)
    )
    config = write_engine_config(tmp_path / "engine.toml", modules, _store_section(dsn))
    transport = MemoryTransport()
    events = [Event(Custom("probe.tick", "", '{"op": "count"}')) for _ in range(50)]
    async with running_engine(config, transports=[transport]) as engine:
        assert isinstance(engine.store, PostgresStore)
        for start in range(0, 50, 10):
            await engine.publish(events[start : start + 10])
        await wait_until(lambda: state_json(engine, "native0", "count") == 50, what="native0")
        await wait_until(lambda: state_json(engine, "wasm", "count") == 50, what="wasm")
        await wait_until(lambda: len(transport.sent) == 50, what="50 sends")
    assert [f"native0:{e.id}:0" for e in events] == [m.idempotency_key for m in transport.sent]
    async with running_engine(config, transports=[MemoryTransport()]) as again:
        assert (50, 50) == (state_json(again, "native0", "count"), again.store.head())
        await again.publish(events[:1])  # a duplicate id: journaled once, counted once
        assert 50 == again.store.head()
        assert 50 == state_json(again, "native0", "count")


def _start(config: Path, out: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.crash_driver", str(config), str(out), mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() in ("started", "drained"):
            return proc
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"engine exited before it started:\n{err[-3000:]}")


def _finish(proc: subprocess.Popen[str]) -> None:
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()


@pytest.mark.slow
def test_sigkill_on_postgres_loses_no_event_and_double_counts_nothing(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After 20 SIGKILLs at random points every journaled event is counted exactly once by
    each module, and every send left with one stable key and body."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    config = write_engine_config(
        tmp_path / "engine.toml", _counters(tmp_path, 2, "file"), _store_section(dsn)
    )
    out = tmp_path / "delivered.jsonl"
    rng = random.Random(4321)
    for _ in range(KILLS):
        proc = _start(config, out, "run")
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        _finish(proc)
    drain = _start(config, out, "drain")
    assert drain.wait(timeout=60) == 0
    _finish(drain)

    with psycopg.connect(dsn, password=postgres.password) as db:
        event_ids = [row[0] for row in db.execute("SELECT id FROM journal ORDER BY seq")]
        counts = {
            module: json.loads(bytes(value))
            for module, value in db.execute("SELECT module, value FROM state WHERE key = 'count'")
        }
        pending = db.execute("SELECT COUNT(*) FROM outbox WHERE NOT done").fetchone()
    assert len(event_ids) > 100, "the source should have produced a steady stream"
    assert {"native0": len(event_ids), "native1": len(event_ids)} == counts
    assert (0,) == pending
    delivered = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    keys = {d["key"] for d in delivered}
    expected = {f"native{i}:{eid}:0" for i in range(2) for eid in event_ids}
    assert expected == keys, f"{len(expected - keys)} outbox messages were never delivered"
    bodies_by_key: dict[str, set[str]] = {}
    for d in delivered:
        bodies_by_key.setdefault(d["key"], set()).add(d["body"])
    assert all(len(bodies) == 1 for bodies in bodies_by_key.values()), (
        "a redelivery changed its body"
    )


async def test_a_lost_connection_makes_the_engine_unready_naming_the_server(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server dropped the store's connection with a batch open: publishing fails with
    StoreError and /health/ready says why (the server, never the password), so a load
    balancer or supervisor stops sending events to an engine that cannot keep them."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    config = write_engine_config(
        tmp_path / "engine.toml", _counters(tmp_path, 1, "memory"), _store_section(dsn)
    )
    async with running_engine(config, transports=[MemoryTransport()]) as engine:
        assert (True, "ready") == readiness(engine)
        engine.store.set_source_state("test", "unflushed")  # a batch is open
        with psycopg.connect(dsn, password=postgres.password, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'cove'"
            )
        with pytest.raises(StoreError):
            await engine.publish([Event(Custom("probe.tick", "", "{}"))])
        ready, reason = readiness(engine)
        assert not ready
        assert reason.startswith(f"store stopped: postgresql://127.0.0.1:{postgres.port}/")
        assert postgres.password not in reason
