"""First compile of the 18 MB bench guest on an empty cache: spawn of the module -> ready, per compiler.

Every row runs in this process on a compiled cache of its own, empty, in the
same run (the machine is shared: the ratios to the baseline say more than the
seconds). "Ready" is the module's host made (the component compiled), its
init run and one event handled on the fast path, as an engine does on a
first start:

- cranelift (baseline): ``[wasm] compiler = "cranelift"``, what cove did
  before: the module waits for Cranelift's optimized code;
- cranelift, opt_level none: the alternative (Cranelift without its
  optimizations), not offered as a setting: shown for the choice;
- winch: ``compiler = "winch"``, Winch's code only;
- tiered: ``compiler = "tiered"`` (the default): ready on Winch's code, and the
  seconds until the module runs Cranelift's (an event every 50 ms until it
  has moved at an event boundary), with the CPU both compiles took.

Then the per-event CPU of each compiler's code (this thread's µs per event,
the two-store-call guest through ``WasmModuleHost``, as bench/fast_path.py's
"cove fast"), interleaved rounds: what the seconds on Winch's code cost.

Run: .venv/bin/python bench/first_compile.py [--rounds R] [--events N]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime
from _common import bench_guest, median, per_call_us, print_table
from wasm_call_overhead import DictState

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._config import EngineConfig
from cove._events import Custom, Event
from cove._hosts import _compiler, _wasm_runtime
from cove._hosts._compiler import Compiler
from cove._hosts._wasm_host import WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime
from cove._manifest import Manifest

TARGET_S = 6.0
ROWS: dict[str, Compiler] = {
    "cranelift (baseline)": "cranelift",
    "cranelift, opt_level none (not offered)": "cranelift",
    "winch": "winch",
    "tiered (cove's default)": "tiered",
}


def cpu_seconds() -> float:
    """This process's CPU time, every thread (the compiles run on wasmtime's threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def opt_none_config(strategy: _compiler.Strategy = "cranelift") -> wasmtime.Config:
    config = _compiler.engine_config(strategy)
    config.cranelift_opt_level = "none"
    return config


def ready_host(
    runtime: WasmRuntime, manifest: Manifest, wasm: bytes
) -> tuple[WasmModuleHost, Callable[[], None]]:
    """The module's host, initialized, and one event through it (handled once here)."""
    grants = resolve_grants(manifest, EngineConfig())
    host = WasmModuleHost(runtime, manifest, grants, wasm, lambda *a: None)
    state = DictState()

    def calls(effects: EventEffects) -> HostCalls:
        return HostCalls(grants, effects, {}, None, lambda *a: None)

    host.init(calls(EventEffects(manifest.name, state, grants.limits.state_bytes)))
    event = Event(Custom("bench.tick", "", "{}"))

    def one() -> None:
        effects = EventEffects(manifest.name, state, grants.limits.state_bytes)
        host.handle(event, 1, calls(effects))
        state.data.update({k: v for k, v in effects.writes.items() if v is not None})

    one()
    return host, one


def first_start(
    label: str, compiler: Compiler, manifest: Manifest, wasm: bytes, tmp: Path
) -> tuple[dict[str, float], Callable[[], None], WasmRuntime]:
    """Seconds (wall, CPU) to ready on an empty cache; for tiered also to Cranelift's code."""
    patched = label.startswith("cranelift, opt_level none")
    if patched:
        setattr(_wasm_runtime, "engine_config", opt_none_config)  # noqa: B010 (what Tier uses)
    try:
        runtime = WasmRuntime(tmp / label.split()[0] / str(time.monotonic_ns()), compiler=compiler)
    finally:
        setattr(_wasm_runtime, "engine_config", _compiler.engine_config)  # noqa: B010
    cpu, start = cpu_seconds(), time.perf_counter()
    host, one = ready_host(runtime, manifest, wasm)
    figures = {"ready": time.perf_counter() - start, "ready cpu": cpu_seconds() - cpu}
    if compiler == "tiered":
        while host.compiled_by != "cranelift":
            time.sleep(0.05)
            one()
        figures["optimized"] = time.perf_counter() - start
        figures["optimized cpu"] = cpu_seconds() - cpu
    return figures, one, runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="empty-cache starts per row")
    parser.add_argument("--events", type=int, default=500, help="events per per-event round")
    args = parser.parse_args()
    manifest, wasm = bench_guest("two_calls")
    load_before = os.getloadavg()[0]
    samples: dict[str, list[dict[str, float]]] = {label: [] for label in ROWS}
    callers: dict[str, Callable[[], None]] = {}
    runtimes: list[WasmRuntime] = []
    with tempfile.TemporaryDirectory(prefix="cove-first-compile-") as tmp_name:
        for _ in range(args.rounds):
            for label, compiler in ROWS.items():
                figures, one, runtime = first_start(label, compiler, manifest, wasm, Path(tmp_name))
                samples[label].append(figures)
                callers[label] = one
                runtimes.append(runtime)
        load_after = os.getloadavg()[0]
        per_event: dict[str, list[float]] = {label: [] for label in callers}
        for _ in range(5):
            for label, one in callers.items():
                per_event[label] += per_call_us(one, args.events, rounds=1, clock=time.thread_time)
        for runtime in runtimes:
            runtime.close()

    def fig(label: str, key: str) -> float:
        return median([s[key] for s in samples[label]])

    base = fig("cranelift (baseline)", "ready")
    rows: list[tuple[str, ...]] = []
    for label in ROWS:
        ready = fig(label, "ready")
        met = "yes" if ready <= TARGET_S else "NO"
        rows.append(
            (label, f"{ready:.2f}", f"{fig(label, 'ready cpu'):.2f}", f"{ready / base:.2f}",
             f"≤ {TARGET_S:g}", met)
        )  # fmt: skip
    print_table(
        f"First start on an empty compiled cache -> module ready (18 MB guest, "
        f"median of {args.rounds}; load {load_before:.1f} -> {load_after:.1f})",
        rows,
        ("compiler", "wall s", "CPU s", "x baseline", "target", "met"),
    )
    tiered = "tiered (cove's default)"
    print(
        f"tiered: on Cranelift's code {fig(tiered, 'optimized'):.2f} s after the start "
        f"({fig(tiered, 'optimized cpu'):.2f} s CPU, both compiles), "
        f"{fig(tiered, 'optimized') / base:.2f}x the baseline's ready"
    )
    cranelift_us = median(per_event["cranelift (baseline)"])
    names = {label: label for label in per_event} | {tiered: f"{tiered}, after the move"}
    per_event_rows: list[tuple[str, ...]] = [
        (names[label], f"{median(s):.1f}", f"{median(s) / cranelift_us:.2f}")
        for label, s in per_event.items()
    ]
    print_table(
        "Per-event CPU of each compiler's code (µs/event, median of 5 interleaved rounds)",
        per_event_rows,
        ("code", "µs/event", "x cranelift"),
    )


if __name__ == "__main__":
    main()
