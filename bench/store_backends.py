"""The store backends side by side: SQLite vs PostgreSQL through the batched path, one run.

Figures (issue 19, step 1; no target): for each backend, in this one run,
  * events/s of the full path (journal -> dispatch -> a native handler writing one
    state key -> commit -> group commit), with and without one send per event;
  * events/s of the store alone, no engine: append 1,000 events, commit each with one
    state write and the cursor, one flush (what the committer asks of it);
  * p50/p99 ms from publish to the delivered effect at a steady 500 events/s;
and PostgreSQL's figure as a ratio of SQLite's. PostgreSQL is a server the script
starts on a loopback port in a temp dir (tests/helpers/postgres.py), with its
default durability (fsync, synchronous_commit on), as SQLite runs with FULL. The
server inherits the script's one-core pin (see _common.engine_bench_args), so both
backends share one core as on a small host; --all-cores lifts it for both.

Run: .venv/bin/python bench/store_backends.py [--events N] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import BENCH, engine_bench_args, print_table, trivial_module

sys.path.insert(0, str(BENCH.parent))  # the test suite's PostgreSQL launcher

from cove import Custom, Engine, Event, Transport
from cove._config import EngineConfig
from cove._store._base import Store
from cove._store._postgres import PostgresStore
from cove._store._sqlite import SqliteStore
from tests.helpers.postgres import PostgresServer

PASSWORD_ENV = "COVE_BENCH_PG_PASSWORD"


class TimingTransport(Transport):
    """Records when each effect left the outbox, keyed by its body (the event id)."""

    def __init__(self) -> None:
        self.name = "timing"
        self.delivered: dict[str, float] = {}

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.delivered[body] = time.perf_counter()


def _events(n: int) -> list[Event]:
    return [Event(Custom("bench.tick", "", "{}")) for _ in range(n)]


def _config(tmp: Path, module: Path, store: dict[str, Any]) -> EngineConfig:
    secrets = {"pg": {"env": PASSWORD_ENV}} if store.get("kind") == "postgres" else {}
    return EngineConfig.model_validate(
        {
            "data_dir": str(tmp / "data"),
            "modules": [str(module)],
            "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
            "store": store,
            "secrets": secrets,
            "root": str(tmp),
        }
    )


async def throughput(config: EngineConfig, n: int, batch: int = 1000) -> float:
    engine = Engine(config, transports=[TimingTransport()])
    await engine.start()
    events = _events(n)
    start = time.perf_counter()
    for i in range(0, n, batch):
        await engine.publish(events[i : i + batch])
    while sum(r.stats.handled for r in engine.runners.values()) < n:
        await asyncio.sleep(0.002)
    await engine.committer.flush()
    elapsed = time.perf_counter() - start
    await engine.stop()
    return n / elapsed


async def latency(config: EngineConfig, rate: int, seconds: float) -> tuple[float, float]:
    transport = TimingTransport()
    engine = Engine(config, transports=[transport])
    await engine.start()
    published: dict[str, float] = {}
    tick = 0.01
    loop_start = time.perf_counter()
    for step in range(int(seconds / tick)):
        events = _events(max(1, int(rate * tick)))
        now = time.perf_counter()
        for event in events:
            published[event.id] = now
        await engine.publish(events)
        delay = loop_start + (step + 1) * tick - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    while len(transport.delivered) < len(published):
        await asyncio.sleep(0.01)
    await engine.stop()
    lat = sorted((transport.delivered[k] - published[k]) * 1e3 for k in published)
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def store_only(open_store: Callable[[], Store], n: int, batch: int = 1000) -> float:
    store = open_store()
    events = _events(n)
    start = time.perf_counter()
    for i in range(0, n, batch):
        for entry in store.append(events[i : i + batch]):
            store.commit("m", entry.seq, {"last": entry.event.id.encode()}, [(entry.event.id, [])])
        store.flush()
    elapsed = time.perf_counter() - start
    store.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = engine_bench_args(parser)
    server = PostgresServer()
    server.start()
    os.environ[PASSWORD_ENV] = server.password
    try:
        rows = run(server, args.events)
    finally:
        server.stop()
    print_table(
        f"Store backends, {args.events:,} events (PostgreSQL on loopback, same run)",
        rows,
        ("path", "SQLite", "PostgreSQL", "PostgreSQL ÷ SQLite"),
    )


def run(server: PostgresServer, n: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        trivial = trivial_module(tmp, "trivial")
        sending = trivial_module(tmp, "sending", send=True)

        def stores() -> tuple[dict[str, Any], dict[str, Any]]:
            pg = {"kind": "postgres", "dsn": server.database(), "password_secret": "pg"}
            return {"kind": "sqlite"}, pg

        def engine_row(label: str, module: Path) -> None:
            sqlite_store, pg_store = stores()
            lite = asyncio.run(throughput(_config(tmp / f"a{len(rows)}", module, sqlite_store), n))
            pg = asyncio.run(throughput(_config(tmp / f"b{len(rows)}", module, pg_store), n))
            rows.append((label, f"{lite:,.0f} ev/s", f"{pg:,.0f} ev/s", f"{pg / lite:.2f}"))

        engine_row("engine, batched, 1 state write", trivial)
        engine_row("engine, batched, 1 state write + 1 send", sending)

        dsn = server.database()
        lite = store_only(lambda: SqliteStore(tmp / "only" / "cove.db"), n)
        pg = store_only(lambda: PostgresStore(dsn, password=server.password), n)
        rows.append(
            (
                "store alone: append + commit, flush/1,000",
                f"{lite:,.0f} ev/s",
                f"{pg:,.0f} ev/s",
                f"{pg / lite:.2f}",
            )
        )

        sqlite_store, pg_store = stores()
        lite50, lite99 = asyncio.run(latency(_config(tmp / "la", sending, sqlite_store), 500, 5))
        pg50, pg99 = asyncio.run(latency(_config(tmp / "lb", sending, pg_store), 500, 5))
        rows.append(
            (
                "publish -> delivered p50, 500 ev/s",
                f"{lite50:.1f} ms",
                f"{pg50:.1f} ms",
                f"{pg50 / lite50:.2f}",
            )
        )
        rows.append(
            (
                "publish -> delivered p99, 500 ev/s",
                f"{lite99:.1f} ms",
                f"{pg99:.1f} ms",
                f"{pg99 / lite99:.2f}",
            )
        )
    return rows


if __name__ == "__main__":
    main()
