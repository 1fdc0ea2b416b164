"""Reloading a module while it receives events: its event latency during swaps against the same
load without reloads, in this one run; and no event lost, handled twice, or by both versions.

Rows (trivial native plugin, 1,000 events/s in batches of 10 every 10 ms):
  * steady: no reload (the baseline);
  * reloading: a ``cove module reload`` every 500 ms (each builds, checks and
    initializes a full candidate off the hot path, then swaps it in).

Latency is an event's publish call to its trajectory (handled and committed).
The target: the reloading p99 at most 2x the steady p99.

Run: .venv/bin/python bench/live_reload.py [--seconds S] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import engine_bench_args, print_table, trivial_module

from cove import Custom, Engine, Event, Trajectory
from cove._config import EngineConfig

RATE_BATCH = 10
"""Events per publish; one publish every 10 ms makes 1,000 events/s."""


async def _phase(
    tmp: Path, seconds: float, reload_every: float | None
) -> tuple[list[float], int, int, int]:
    """Latencies in ms, events lost, events handled more than once, reloads done."""
    with tempfile.TemporaryDirectory(dir=tmp) as data:
        config = EngineConfig.model_validate(
            {
                "data_dir": data,
                "modules": [str(tmp / "trivial")],
                "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
                "trajectories": {"enabled": False},
                "root": str(tmp),
            }
        )
        sent: dict[str, float] = {}
        done: dict[str, float] = {}
        handled: Counter[str] = Counter()

        def arrived(trajectory: Trajectory) -> None:
            handled[trajectory.event_id] += 1
            done.setdefault(trajectory.event_id, time.perf_counter())

        engine = Engine(config, on_trajectory=arrived)
        await engine.start()
        reloads = 0

        async def reloading() -> None:
            nonlocal reloads
            assert reload_every is not None
            while True:
                await asyncio.sleep(reload_every)
                await engine.reload("trivial")
                reloads += 1

        reloader = asyncio.create_task(reloading()) if reload_every else None
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while loop.time() - start < seconds:
            events = [Event(Custom("bench.tick", "", "{}")) for _ in range(RATE_BATCH)]
            now = time.perf_counter()
            for event in events:
                sent[event.id] = now
            await engine.publish(events)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.01 - loop.time()))
        if reloader is not None:
            reloader.cancel()
            await asyncio.gather(reloader, return_exceptions=True)
        deadline = loop.time() + 10
        while len(done) < len(sent) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await engine.stop()
    latencies = [(done[i] - sent[i]) * 1000 for i in sent if i in done]
    lost = len(sent) - len(latencies)
    twice = sum(1 for count in handled.values() if count > 1)
    return latencies, lost, twice, reloads


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = engine_bench_args(parser)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        trivial_module(tmp, "trivial")
        steady = asyncio.run(_phase(tmp, args.seconds, None))
        reloading = asyncio.run(_phase(tmp, args.seconds, 0.5))
    base_p99 = _p(steady[0], 99)
    rows: list[tuple[str, ...]] = []
    for name, (latencies, lost, twice, reloads) in (("steady", steady), ("reloading", reloading)):
        p99 = _p(latencies, 99)
        rows.append(
            (name, str(len(latencies)), str(reloads), f"{_p(latencies, 50):.2f}", f"{p99:.2f}",
             f"{p99 / base_p99:.2f}x", str(lost), str(twice))
        )  # fmt: skip
    header = ("phase", "events", "reloads", "p50 ms", "p99 ms", "p99 vs steady", "lost", "twice")
    print_table(
        "Reload under 1,000 events/s (target: p99 <= 2x steady; none lost or twice)", rows, header
    )


if __name__ == "__main__":
    main()
