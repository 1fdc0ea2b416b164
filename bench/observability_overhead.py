"""Observability overhead: dispatch throughput with metrics + trajectories on vs off.

Both configurations run in this one process, alternating rounds so drift
hits both alike: "off" has trajectories disabled and no listeners; "on"
stores every trajectory (the default) and serves Prometheus metrics on a
loopback port that a scraper reads every second (Prometheus
typically scrapes every 15-60 s). Target (issue 5): "on"
keeps >= 85% of the "off" throughput.

Run: .venv/bin/python bench/observability_overhead.py [--events N] [--rounds R] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

import httpx
from _common import BENCH, median, print_table
from dispatch_throughput import _drain, _events, _module_copy, _wasm_module

from cove import Engine, Trajectory
from cove._capabilities._calls import HostCallRecord
from cove._config import EngineConfig
from cove._observe._logging import configure_logging
from cove._observe._trajectories import Retention, TrajectoryStore


def _config(tmp: Path, module: Path, observe: bool) -> EngineConfig:
    data: dict[str, object] = {
        "data_dir": str(tmp / "data"),
        "modules": [str(module)],
        "wasm": {"cache_dir": str(BENCH.parent / ".cove" / "bench-cache" / "compiled")},
        "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
        "trajectories": {"enabled": observe},
        "root": str(tmp),
    }
    if observe:
        data["metrics"] = {"host": "127.0.0.1", "port": 0}
    return EngineConfig.model_validate(data)


async def _scrape(url: str) -> None:
    async with httpx.AsyncClient() as client:
        while True:
            (await client.get(url)).raise_for_status()
            await asyncio.sleep(1.0)


async def throughput(module: Path, observe: bool, n: int, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(_config(Path(tmp), module, observe))
        await engine.start()
        scraper = None
        if engine.control is not None and engine.control.metrics is not None:
            scraper = asyncio.ensure_future(_scrape(engine.control.metrics.url + "/metrics"))
        events = _events(n)
        start = time.perf_counter()
        for i in range(0, n, batch):
            await engine.publish(events[i : i + batch])
        await _drain(engine, n)
        elapsed = time.perf_counter() - start
        if scraper is not None:
            scraper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scraper
        await engine.stop()
    return n / elapsed


def writer_cpu_us(n: int = 20_000) -> tuple[float, float]:
    """CPU µs per record to queue (hot path) and to store (writer) a two-call trajectory."""
    call = HostCallRecord("store", "set-many", "count,sum", None, 55_000)
    record = Trajectory("bench", "001a208c62f57-e00a6f3e162a00000002", 1, "ok", "", (call, call), 276_373, 7_737_121)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        store = TrajectoryStore(Path(tmp) / "t.db", Retention(86_400_000, 1 << 30), 3_600_000)
        start = time.thread_time()
        for _ in range(n):
            store.add(record)
        queued = time.thread_time()
        store.flush()
        stored = time.thread_time()
        store.close()
    return (queued - start) / n * 1e6, (stored - queued) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    configure_logging("json", 40)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for label, module, n, batch in (
            ("native trivial", _module_copy(tmp, "trivial"), args.events, 1000),
            ("wasm 2 store calls", _wasm_module(tmp), max(200, args.events // 10), 200),
        ):
            off, on = [], []
            for _ in range(args.rounds):
                off.append(asyncio.run(throughput(module, False, n, batch)))
                on.append(asyncio.run(throughput(module, True, n, batch)))
            ratio = median(on) / median(off)
            rows.append((label, f"{median(off):,.0f}", f"{median(on):,.0f}", f"{ratio:.0%}"))
    print_table(
        "Dispatch throughput with metrics + trajectories off vs on (target: on >= 85% of off)",
        rows,
        ("module", "off events/s", "on events/s", "on / off"),
    )
    queue_us, store_us = writer_cpu_us()
    print_table(
        "Trajectory cost per handled event (CPU time, this thread)",
        [
            ("queue (module worker thread)", f"{queue_us:.2f}"),
            ("store (writer thread)", f"{store_us:.2f}"),
        ],
        ("step", "µs"),
    )


if __name__ == "__main__":
    main()
