"""Observability overhead: dispatch throughput with metrics + trajectories on vs off, and tracing.

Both configurations run in this one process, alternating rounds so drift
hits both alike: "off" has trajectories disabled and no listeners; "on"
stores every trajectory (the default) and serves Prometheus metrics on a
loopback port that a scraper reads once before the timing and then every
second (Prometheus typically scrapes every 15-60 s). Target (issue 5): "on"
keeps >= 85% of the "off" throughput. On a shared machine wall-clock
throughput swings with the neighbours' load, so the table also gives the
process CPU time per event (all threads: module workers, trajectory writer,
metrics listener); its off/on ratio is the steadier figure.

A second table compares OpenTelemetry tracing off (the default: no
``[tracing]``, the SDK not imported) with on (every span exported over
OTLP/HTTP to a collector on loopback that accepts and drops them), both with
trajectories on, in alternating rounds of the same run.

Run: .venv/bin/python bench/observability_overhead.py [--events N] [--rounds R] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from _common import BENCH, engine_bench_args, median, print_table, trivial_module
from dispatch_throughput import _drain, _events, _wasm_module

from cove import Trajectory
from cove._app import App
from cove._capabilities._call_record import HostCallRecord
from cove._config import EngineConfig
from cove._observe._trajectories import Retention, TrajectoryStore


def _config(tmp: Path, module: Path, observe: bool, traces: str | None = None) -> EngineConfig:
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
    if traces is not None:
        data["tracing"] = {"endpoint": traces}
    return EngineConfig.model_validate(data)


@contextlib.contextmanager
def collector() -> Iterator[str]:
    """An OTLP/HTTP endpoint on loopback that accepts every export and drops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


async def _scrape(client: httpx.AsyncClient, url: str) -> None:
    while True:
        await asyncio.sleep(1.0)
        (await client.get(url)).raise_for_status()


async def throughput(
    module: Path, observe: bool, n: int, batch: int, traces: str | None = None
) -> tuple[float, float]:
    """Events/s and process CPU µs per event, from the first publish to the drain."""
    with tempfile.TemporaryDirectory() as tmp:
        app = App(_config(Path(tmp), module, observe, traces))
        await app.start()
        engine = app.engine
        client = httpx.AsyncClient()
        scraper = None
        if app.control is not None and app.control.metrics is not None:
            # A running engine has been scraped before: the first request's
            # one-off costs (imports, connection) stay out of the timing.
            url = app.control.metrics.url + "/metrics"
            (await client.get(url)).raise_for_status()
            scraper = asyncio.ensure_future(_scrape(client, url))
        events = _events(n)
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            await engine.publish(events[i : i + batch])
        await _drain(engine, n)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if scraper is not None:
            scraper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scraper
        await client.aclose()
        await app.stop()
    return n / elapsed, cpu / n * 1e6


def writer_cpu_us(n: int = 20_480, batch: int = 256) -> tuple[float, float]:
    """CPU µs per record to queue (module thread, per commit batch) and to store (writer)."""
    call = HostCallRecord("store", "set-many", "count,sum", None, 55_000)
    record = Trajectory("bench", "001a208c62f57-e00a6f3e162a00000002", 1, "ok", "", (call, call), 276_373, 7_737_121)  # fmt: skip
    records = [record] * batch
    with tempfile.TemporaryDirectory() as tmp:
        store = TrajectoryStore(Path(tmp) / "t.db", Retention(86_400_000, 1 << 30), 3_600_000)
        start = time.thread_time()
        for _ in range(n // batch):
            store.add("bench", records)
        queued = time.thread_time()
        store.flush()
        stored = time.thread_time()
        store.close()
    return (queued - start) / n * 1e6, (stored - queued) / n * 1e6


COLUMNS = (
    "module",
    "off events/s",
    "on events/s",
    "on / off",
    "off CPU µs/event",
    "on CPU µs/event",
    "off / on CPU",
)


def _compared(
    off: list[tuple[float, float]], on: list[tuple[float, float]]
) -> tuple[str, str, str, str, str, str]:
    """Medians of two configurations' (events/s, CPU µs/event) rounds, with their ratios."""
    rate_off, rate_on = median([r for r, _ in off]), median([r for r, _ in on])
    cpu_off, cpu_on = median([c for _, c in off]), median([c for _, c in on])
    return (
        f"{rate_off:,.0f}",
        f"{rate_on:,.0f}",
        f"{rate_on / rate_off:.0%}",
        f"{cpu_off:.1f}",
        f"{cpu_on:.1f}",
        f"{cpu_off / cpu_on:.0%}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = engine_bench_args(parser)
    rows, traced = [], []
    with tempfile.TemporaryDirectory() as tmp_dir, collector() as traces:
        tmp = Path(tmp_dir)
        for label, module, n, batch in (
            ("native trivial", trivial_module(tmp, "trivial"), args.events, 1000),
            ("wasm 2 store calls", _wasm_module(tmp), max(200, args.events // 10), 200),
        ):
            off, on, tracing = [], [], []
            for _ in range(args.rounds):
                off.append(asyncio.run(throughput(module, False, n, batch)))
                on.append(asyncio.run(throughput(module, True, n, batch)))
                tracing.append(asyncio.run(throughput(module, True, n, batch, traces)))
            rows.append((label, *_compared(off, on)))
            traced.append((label, *_compared(on, tracing)))
    print_table(
        "Dispatch with metrics + trajectories off vs on, medians of "
        f"{args.rounds} alternating rounds (target: on >= 85% of off)",
        rows,
        COLUMNS,
    )
    print_table(
        "Dispatch with OpenTelemetry tracing off (default) vs on (OTLP/HTTP to loopback), "
        f"trajectories on in both, medians of {args.rounds} alternating rounds",
        traced,
        COLUMNS,
    )
    queue_us, store_us = writer_cpu_us()
    print_table(
        "Trajectory cost per handled event (CPU time, this thread)",
        [
            ("encode + queue (module worker thread)", f"{queue_us:.2f}"),
            ("store (writer thread)", f"{store_us:.2f}"),
        ],
        ("step", "µs"),
    )


if __name__ == "__main__":
    main()
