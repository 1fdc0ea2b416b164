"""Shared bits of the benchmark scripts: arguments, modules, building the bench guest, timing, tables."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cove._build._python_guest import build_python
from cove._manifest import Manifest, load_manifest, sha256_pin
from cove._observe._logging import configure_logging

BENCH = Path(__file__).resolve().parent
CACHE = BENCH.parent / ".cove" / "bench-cache"
# Benchmarks time the optimized code: on a fresh cache, ``tiered`` would run Winch's
# code until Cranelift's background compile ends, and move mid-measurement. The
# scripts about a first compile (first_compile.py, cold_start.py) say their compiler.
os.environ.setdefault("COVE_WASM_COMPILER", "cranelift")


def rounds_argument(description: str | None, default: int) -> int:
    """The one optional ``ROUNDS`` argument of the simpler scripts, with a ``--help``."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "rounds", nargs="?", type=int, default=default, help=f"rounds to time (default {default})"
    )
    return int(parser.parse_args().rounds)


def engine_bench_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The script's arguments plus ``--all-cores``; pins to one core unless given, logs errors only.

    One core: the engine's threads then share it as on a small host, and a
    shared machine's other load disturbs the rows of one run alike.
    """
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    configure_logging("json", 40)
    return args


def trivial_module(tmp: Path, name: str, send: bool = False) -> Path:
    """A copy of bench/assets/trivial (a native plugin) under ``tmp/name``; ``send``: it also
    sends one message per event."""
    target = tmp / name
    shutil.copytree(BENCH / "assets" / "trivial", target)
    if send:
        with (target / "cove.toml").open("a") as f:
            f.write("\n[config]\nsend = true\n")
    return target


def bench_guest(
    name: str = "two_calls", host_wit: str | None = None, sdk: Path | None = None
) -> tuple[Manifest, bytes]:
    """Build bench/assets/<name> (cached) and return its manifest with the real pin;
    ``host_wit``: against that contract text instead of the current host.wit; ``sdk``:
    with the ``cove_sdk`` under that directory instead of the installed one."""
    manifest = load_manifest(BENCH / "assets" / name)
    result = build_python(manifest, CACHE / "builds", progress=print, host_wit=host_wit, sdk=sdk)
    wasm = result.path.read_bytes()
    module = manifest.module.model_copy(update={"sha256": sha256_pin(wasm)})
    return manifest.model_copy(update={"module": module}), wasm


def per_call_us(
    fn: Callable[[], object],
    n: int,
    rounds: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median-friendly samples: ``rounds`` timings of ``n`` calls, in µs per call.

    ``clock=time.thread_time`` counts this thread's CPU time only, which a
    shared, loaded machine disturbs far less than wall time.
    """
    for _ in range(min(n, 200)):
        fn()
    samples = []
    for _ in range(rounds):
        start = clock()
        for _ in range(n):
            fn()
        samples.append((clock() - start) / n * 1e6)
    return samples


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def median(samples: list[float]) -> float:
    return statistics.median(samples)
