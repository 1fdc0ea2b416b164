"""Many hibernated modules on one engine: memory per module, wake-up latency, and the
throughput of the awake ones beside them (issue 20 item 4).

Every module runs the same real componentize-py component (bench/assets/two_calls:
two store calls per event), one manifest each in a temp dir. Each row is measured in a
fresh process of its own (this script with --phase), so one engine's memory never
stays in the next one's figures:

  * ``awake``: 10 modules that never hibernate; its RSS is the baseline;
  * ``many``: the same 10 plus N modules with ``hibernate_after``; once all N are
    hibernating, RSS (bytes per hibernated module = the difference / N, goal <= 100 KB),
    then the wake latency of hibernated modules (one event published to one asleep
    module -> handled and committed; p50/p99, goal p99 <= 20 ms).

Both rows then measure the events/s of the 10 awake modules (the ratio, goal ~1.0).
Each engine's startup objects are frozen out of the collector's full passes once it has
started, as ``cove run`` does (``cove._gc``).

Run: .venv/bin/python bench/hibernation.py [--modules N] [--events E] [--wakes W]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BENCH, bench_guest, print_table

from cove import Custom, Engine, Event
from cove._config import EngineConfig
from cove._engine._trim import heap_trim
from cove._gc import freeze_startup_objects
from cove._hosts._wasm_runtime import WasmRuntime
from cove._observe._logging import configure_logging

AWAKE = 10


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _write_modules(tmp: Path, count: int, awake: int) -> list[Path]:
    """``awake`` modules on ``bench.awake``, then ``count`` on ``bench.m<i>`` each; one
    component file shared by every manifest."""
    manifest, wasm = bench_guest()
    component = tmp / "two_calls.wasm"
    component.write_bytes(wasm)
    names = [f"a{i:02}" for i in range(awake)] + [f"m{i:05}" for i in range(count)]
    paths = []
    for name in names:
        directory = tmp / "modules" / name
        directory.mkdir(parents=True)
        topics = [f"bench.{name}"] + (["bench.awake"] if name.startswith("a") else [])
        subscriptions = "".join(
            f'[[subscription]]\nkind = "custom"\nname = "{topic}"\n' for topic in topics
        )
        (directory / "cove.toml").write_text(
            f'[module]\nname = "{name}"\nversion = "0.1.0"\nkind = "wasm"\n'
            f'component = "../../two_calls.wasm"\nsha256 = "{manifest.module.sha256}"\n'
            '[capabilities]\nrequired = ["store"]\n' + subscriptions
        )
        paths.append(directory)
    return paths


def _config(tmp: Path, modules: list[Path], awake: int) -> EngineConfig:
    return EngineConfig.model_validate(
        {
            "data_dir": str(tmp / "data"),
            "modules": [str(m) for m in modules],
            "wasm": {
                "cache_dir": str(BENCH.parent / ".cove" / "bench-cache" / "compiled"),
                "hibernate_after": "2s",
            },
            "overrides": {f"a{i:02}": {"hibernate_after": "never"} for i in range(awake)},
            "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
            "root": str(tmp),
        }
    )


def _handled(engine: Engine, names: list[str]) -> int:
    return sum(engine.runners[n].stats.handled for n in names)


async def _throughput(engine: Engine, events: int) -> float:
    awake = [n for n in engine.runners if n.startswith("a")]
    before = _handled(engine, awake)
    batch = [Event(Custom("bench.awake", "", "{}")) for _ in range(events)]
    start = time.perf_counter()
    for i in range(0, events, 500):
        await engine.publish(batch[i : i + 500])
    while _handled(engine, awake) - before < events * len(awake):
        await asyncio.sleep(0.002)
    return events * len(awake) / (time.perf_counter() - start)


async def _latencies(engine: Engine, names: list[str], count: int) -> list[float]:
    """ms from publish to handled (committed), one event to one module at a time, sorted."""
    took = []
    for i in range(count):
        runner = engine.runners[names[i % len(names)]]
        handled = runner.stats.handled
        start = time.perf_counter()
        await engine.publish([Event(Custom(f"bench.{runner.name}", "", "{}"))])
        while runner.stats.handled == handled:
            await asyncio.sleep(0.0002)
        took.append((time.perf_counter() - start) * 1e3)
        await asyncio.sleep(0.005)
    return sorted(took)


def _p(samples: list[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * q))]


async def _phase(count: int, events: int, wakes: int) -> dict[str, float]:
    configure_logging("json", 40)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        modules = _write_modules(tmp, count, AWAKE)
        started = time.perf_counter()
        engine = Engine(_config(tmp, modules, AWAKE))
        await engine.start()
        start_s = time.perf_counter() - started
        freeze_startup_objects()  # as `cove run` does once the engine has started
        sleepers = [r for n, r in engine.runners.items() if n.startswith("m")]
        while any(r.state != "hibernating" for r in sleepers):
            await asyncio.sleep(0.1)
        gc.collect()
        await asyncio.sleep(1.5)  # the engine's heap trim after the last ones hibernated
        heap_trim.now()  # and one in both rows, so neither counts free heap the other lacks
        result = {"modules": len(engine.runners), "start_s": start_s, "rss": _rss_bytes()}
        result["events_per_s"] = max([await _throughput(engine, events) for _ in range(2)])
        awake = await _latencies(engine, [n for n in engine.runners if n.startswith("a")], wakes)
        result["awake_p50_ms"], result["awake_p99_ms"] = _p(awake, 0.5), _p(awake, 0.99)
        if count:
            asleep = [n for n, r in engine.runners.items() if r.state == "hibernating"]
            took = await _latencies(engine, asleep[:: max(1, len(asleep) // wakes)], wakes)
            result["wake_p50_ms"], result["wake_p99_ms"] = _p(took, 0.5), _p(took, 0.99)
        await engine.stop()
    return result


def _run_phase(count: int, events: int, wakes: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--phase", str(count), "--events", str(events)]
    out = subprocess.run(
        [*command, "--wakes", str(wakes)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=10_000, help="hibernated modules")
    parser.add_argument("--events", type=int, default=2_000, help="events per awake module")
    parser.add_argument("--wakes", type=int, default=200, help="wake-ups timed")
    parser.add_argument("--phase", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase is not None:
        print(json.dumps(asyncio.run(_phase(args.phase, args.events, args.wakes))))
        return
    manifest, wasm = bench_guest()  # built and compiled (cached) before either phase runs
    runtime = WasmRuntime(BENCH.parent / ".cove" / "bench-cache" / "compiled")
    runtime.precompile(manifest.name, wasm)
    runtime.close()
    base = _run_phase(0, args.events, args.wakes)
    many = _run_phase(args.modules, args.events, args.wakes)
    per_module = (many["rss"] - base["rss"]) / args.modules
    rows = [
        (f"{AWAKE} awake", f"{base['start_s']:.1f}", f"{base['rss'] / 2**20:.0f}", "",
         f"{base['awake_p50_ms']:.1f} / {base['awake_p99_ms']:.1f}", "",
         f"{base['events_per_s']:,.0f}", "1.00"),
        (f"{AWAKE} awake + {args.modules:,} hibernated", f"{many['start_s']:.1f}",
         f"{many['rss'] / 2**20:.0f}", f"{per_module / 1024:.1f}",
         f"{many['awake_p50_ms']:.1f} / {many['awake_p99_ms']:.1f}",
         f"{many['wake_p50_ms']:.1f} / {many['wake_p99_ms']:.1f}",
         f"{many['events_per_s']:,.0f}", f"{many['events_per_s'] / base['events_per_s']:.2f}"),
    ]  # fmt: skip
    print_table(
        f"Hibernation: {args.modules:,} modules of one component, {AWAKE} awake "
        f"({args.events:,} events each; {args.wakes} single events timed per column)",
        rows,
        ("engine", "start s", "RSS MiB", "KiB/hibernated (goal <=100)",
         "awake module p50 / p99 ms", "hibernated module p50 / p99 ms (goal p99 <=20)",
         "awake events/s", "ratio (goal ~1.0)"),
    )  # fmt: skip


if __name__ == "__main__":
    main()
