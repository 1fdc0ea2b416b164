"""Throughput and latency of cove's full path: journal -> dispatch -> handler -> commit.

Each engine is started as `cove run` starts one: its startup objects frozen out of the
garbage collector's full passes (cove._gc), which otherwise walk the whole heap.

Figures (issues 3 and 17), all measured in this one run:
  * trivial native plugin, batched group commit vs one fsync per event
    (target >= 50,000 events/s batched, on one core), against a floor in the
    same run: the same events journaled and a state row written per event
    by bare SQLite in batches of 1,000, no engine;
  * Python-guest wasm module making 2 store calls, through the full path,
    as a share of the raw wasmtime-py call rate of the same component
    (target >= 70%);
  * p50/p99 latency from publish to the delivered (committed) effect at a
    steady 1,000 events/s (target p99 <= 15 ms), against the p50/p99 of one
    bare SQLite commit (an fsync) at the same pace in the same run: the
    disk's share, which no engine change removes.

Run: .venv/bin/python bench/dispatch_throughput.py [--events N] [--all-cores]
     [--against REV [--rounds R]]
With --against, only the native batched row, this checkout against git revision REV,
in alternating child processes (medians of R rounds each).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _against_rev import alternate, medians, tree_at
from _common import (
    BENCH,
    bench_guest,
    engine_bench_args,
    median,
    per_call_us,
    print_table,
    trivial_module,
)
from wasm_call_overhead import raw_caller

from cove import Custom, Engine, Event, Transport
from cove._config import EngineConfig
from cove._event_codec import event_to_json
from cove._gc import freeze_startup_objects
from cove._hosts._wasm_runtime import WasmRuntime


class TimingTransport(Transport):
    """Records when each effect left the outbox, keyed by event id."""

    def __init__(self) -> None:
        self.name = "timing"
        self.delivered: dict[str, float] = {}

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.delivered[body] = time.perf_counter()


def _config(tmp: Path, modules: list[Path], mode: str) -> EngineConfig:
    return EngineConfig.model_validate(
        {
            "data_dir": str(tmp / "data"),
            "modules": [str(m) for m in modules],
            "wasm": {"cache_dir": str(BENCH.parent / ".cove" / "bench-cache" / "compiled")},
            "commit": {"mode": mode, "max_delay": "10ms", "max_batch": 5000},
            "root": str(tmp),
        }
    )


def _events(n: int) -> list[Event]:
    return [Event(Custom("bench.tick", "", "{}")) for _ in range(n)]


async def _drain(engine: Engine, total: int) -> None:
    while sum(r.stats.handled for r in engine.runners.values()) < total:
        await asyncio.sleep(0.002)
    await engine.committer.flush()


async def throughput(
    modules: list[Path], mode: str, n: int, batch: int = 1000
) -> tuple[float, float]:
    """Events/s, and the process's CPU µs per event (every thread): on a shared machine
    the neighbours' load moves the first far more than the second."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(_config(Path(tmp), modules, mode), transports=[TimingTransport()])
        await engine.start()
        freeze_startup_objects()  # as `cove run` does
        events = _events(n)
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            await engine.publish(events[i : i + batch])
        await _drain(engine, n * len(modules))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        await engine.stop()
        gc.unfreeze()  # the next run's engine starts from the same heap
    return n / elapsed, cpu / n * 1e6


async def latency(module: Path, rate: int, seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        transport = TimingTransport()
        engine = Engine(_config(Path(tmp), [module], "batched"), transports=[transport])
        await engine.start()
        freeze_startup_objects()
        published: dict[str, float] = {}
        tick = 0.01  # publish rate/100 events every 10 ms
        per_tick = max(1, int(rate * tick))
        loop_start = time.perf_counter()
        for step in range(int(seconds / tick)):
            events = _events(per_tick)
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
        gc.unfreeze()
    lat = sorted((transport.delivered[k] - published[k]) * 1e3 for k in published)
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def _bare_db(path: Path) -> sqlite3.Connection:
    """A SQLite file set up as the store's (WAL, fsync at every commit), no engine."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body TEXT)")
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    return db


def floor_throughput(tmp: Path, n: int, batch: int = 1000) -> tuple[float, float]:
    """As ``throughput`` for the least durable work per event: journal it, write one
    state row, one commit per ``batch`` (what the engine's batched path cannot go below)."""
    db = _bare_db(tmp / "floor.db")
    events = _events(n)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, batch):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO journal (id, body) VALUES (?, ?)",
            [(e.id, event_to_json(e)) for e in events[i : i + batch]],
        )
        for event in events[i : i + batch]:
            db.execute("INSERT OR REPLACE INTO state VALUES ('last', ?)", (event.id.encode(),))
        db.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.close()
    return n / elapsed, cpu / n * 1e6


async def commit_latency(tmp: Path, rate: int, seconds: float) -> tuple[float, float]:
    """p50/p99 ms of one bare commit of ``rate/100`` rows every 10 ms: the disk's fsync."""
    db = _bare_db(tmp / "fsync.db")
    tick = 0.01
    took = []
    loop_start = time.perf_counter()
    for step in range(int(seconds / tick)):
        began = time.perf_counter()
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO journal (id, body) VALUES (?, ?)",
            [(e.id, "{}") for e in _events(max(1, int(rate * tick)))],
        )
        db.execute("COMMIT")
        took.append((time.perf_counter() - began) * 1e3)
        delay = loop_start + (step + 1) * tick - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    db.close()
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.99) - 1]


def _wasm_module(tmp: Path) -> Path:
    manifest, wasm = bench_guest()
    target = tmp / "two_calls"
    shutil.copytree(BENCH / "assets" / "two_calls", target)
    (target / "two_calls.wasm").write_bytes(wasm)
    text = (target / "cove.toml").read_text()
    assert manifest.module.sha256 is not None
    (target / "cove.toml").write_text(
        text.replace(
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            manifest.module.sha256,
        )
    )
    return target


def batched_only(events: int) -> None:
    """One batched native run, as one JSON line (a child of ``--against``)."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        trivial = trivial_module(Path(tmp_dir), "trivial")
        rate, cpu = asyncio.run(throughput([trivial], "batched", events))
    print(json.dumps({"rate": rate, "cpu": cpu, "load": os.getloadavg()[0]}))


def against(revision: str, events: int, rounds: int, all_cores: bool) -> None:
    """The native batched row, this checkout against ``revision``, alternating rounds."""
    command = [__file__, "--batched-only", "--events", str(events)]
    command += ["--all-cores"] if all_cores else []
    with tempfile.TemporaryDirectory() as tmp_dir:
        trees = {"this checkout": None, revision: tree_at(revision, Path(tmp_dir))}
        results = alternate(command, trees, rounds)
    now, then = medians(results["this checkout"]), medians(results[revision])
    loads = [s["load"] for samples in results.values() for s in samples]
    print_table(
        f"Native trivial, batched commit: medians of {rounds} alternating rounds "
        f"(load {min(loads):.1f}-{max(loads):.1f})",
        [
            (name, f"{m['rate']:,.0f}", f"{m['cpu']:.1f}", f"{then['cpu'] / m['cpu']:.2f}x")
            for name, m in (("this checkout", now), (revision, then))
        ],
        ("source", "events/s", "CPU µs/event", f"CPU speed-up vs {revision}"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument(
        "--against", metavar="REV", help="only the native batched row, against git revision REV"
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each with --against")
    parser.add_argument("--batched-only", action="store_true", help=argparse.SUPPRESS)
    args = engine_bench_args(parser)
    if args.batched_only:
        batched_only(args.events)
        return
    if args.against is not None:
        against(args.against, args.events, args.rounds, args.all_cores)
        return
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        trivial = trivial_module(tmp, "trivial")
        floor, floor_cpu = floor_throughput(tmp, args.events)
        batched, batched_cpu = asyncio.run(throughput([trivial], "batched", args.events))
        per_event, _ = asyncio.run(throughput([trivial], "per-event", min(args.events, 2000)))
        wasm = _wasm_module(tmp)
        wasm_events = 2000
        wasm_rate, _ = asyncio.run(throughput([wasm], "batched", wasm_events, batch=200))
        _, wasm_bytes = bench_guest()
        runtime = WasmRuntime(tmp / "raw-cache")
        raw_rate = 1e6 / median(per_call_us(raw_caller(runtime, wasm_bytes), wasm_events // 5))
        runtime.close()
        p50, p99 = asyncio.run(latency(trivial_module(tmp, "timed", send=True), 1000, 5.0))
        fsync50, fsync99 = asyncio.run(commit_latency(tmp, 1000, 5.0))
    print_table(
        "Full path throughput (journal -> dispatch -> handler -> commit)",
        [
            (
                "native trivial, batched commit",
                f"{batched:,.0f}",
                f"target >= 50,000; {batched / floor:.0%} of the floor; "
                f"CPU {batched_cpu:.1f} µs/event, {batched_cpu / floor_cpu:.1f}x the floor's",
            ),
            (
                "floor: bare SQLite, journal + state row",
                f"{floor:,.0f}",
                f"baseline, no engine; CPU {floor_cpu:.1f} µs/event",
            ),
            (
                "native trivial, fsync per event",
                f"{per_event:,.0f}",
                f"{per_event / batched:.3f} of batched",
            ),
            (
                "wasm 2 store calls, batched",
                f"{wasm_rate:,.0f}",
                f"{wasm_rate / raw_rate:.0%} of raw (target >= 70%)",
            ),
            ("raw wasmtime-py call, same component", f"{raw_rate:,.0f}", "baseline"),
        ],
        ("path", "events/s", "note"),
    )
    print_table(
        "Latency publish -> delivered effect at 1,000 events/s (batched, 10 ms bound)",
        [
            ("p50", f"{p50:.1f}", f"{fsync50:.1f}", f"{p50 / fsync50:.1f}x"),
            ("p99 (target <= 15 ms)", f"{p99:.1f}", f"{fsync99:.1f}", f"{p99 / fsync99:.1f}x"),
        ],
        ("percentile", "ms", "bare SQLite commit, ms", "÷ commit"),
    )


if __name__ == "__main__":
    main()
