"""Where a hibernated module's wake-up goes (issue 20 item 4): each step of the wake
timed inside one engine, beside the whole wake and an awake module's event.

N modules of bench/assets/two_calls hibernate (``hibernate_after = "2s"``); then W of
them get one event each, one at a time, as in bench/hibernation.py. The host's steps
are wrapped with timers for that part only: a linker made (none once the modules' shared
one is made, ``_shared_linker``), the instantiation
(and, inside it, each read of /proc/self/maps by the memory watch and each component
instantiated: the module's and its WASI clock's), then the init and handle calls.
The share column divides a step's p50 (times its count per wake) by the wake's p50.
Each step also has its CPU time (``time.thread_time``: its own thread's, so what the
other processes of a shared machine take does not count), and the wake has the CPU
time of its batch on the module's thread: on a loaded machine a wake's wall time is
about its CPU time over the share of a core it gets, so that is the figure an
optimisation moves.

Run: .venv/bin/python bench/wake_breakdown.py [--modules N] [--wakes W]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import print_table
from hibernation import _config, _latencies, _p, _write_modules
from wasmtime.component import Linker

from cove import Engine
from cove._engine._batch import BatchHandler
from cove._gc import freeze_startup_objects
from cove._hosts import _linear_memory, _shared_linker, _wasi_clock, _wasm_host
from cove._observe._logging import configure_logging

_STEPS: dict[str, list[float]] = {}
_CPU: dict[str, list[float]] = {}


def _timed(step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter_ns(), time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            _STEPS.setdefault(step, []).append((time.perf_counter_ns() - start) / 1e6)
            _CPU.setdefault(step, []).append((time.thread_time_ns() - cpu) / 1e6)

    return run


def _wrap_steps() -> None:
    host = _wasm_host.WasmModuleHost
    call = host._call

    def timed_call(self: Any, func: Any, calls: Any, what: str, *args: Any, **kw: Any) -> Any:
        return _timed(f"call {what.split()[0]}", call)(self, func, calls, what, *args, **kw)

    batch = BatchHandler.run
    BatchHandler.run = _timed("the wake's batch on its thread", batch)  # type: ignore[method-assign]
    made = _shared_linker._Made
    made.__init__ = _timed("linker made", made.__init__)  # type: ignore[method-assign]
    host._instantiate = _timed("instantiate (all of it)", host._instantiate)  # type: ignore[method-assign]
    host._call = timed_call  # type: ignore[method-assign]
    _linear_memory.linear_memories = _timed(
        "  /proc/self/maps read+parse", _linear_memory.linear_memories
    )
    Linker.instantiate = _timed("  component instantiated", Linker.instantiate)  # type: ignore[method-assign]
    clock = _wasi_clock.ClockHelper
    clock.bind = _timed("  of which WASI clock bound", clock.bind)  # type: ignore[method-assign]


async def _measure(count: int, wakes: int) -> tuple[list[float], list[float]]:
    configure_logging("json", 40)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        engine = Engine(_config(tmp, _write_modules(tmp, count, 1), 1))
        await engine.start()
        freeze_startup_objects()  # as `cove run` does
        sleepers = [r for n, r in engine.runners.items() if n.startswith("m")]
        while any(r.state != "hibernating" for r in sleepers):
            await asyncio.sleep(0.1)
        awake = await _latencies(engine, ["a00"], wakes)
        _wrap_steps()
        took = await _latencies(
            engine, [r.name for r in sleepers][:: max(1, count // wakes)], wakes
        )
        await engine.stop()
    return awake, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200, help="hibernated modules")
    parser.add_argument("--wakes", type=int, default=100, help="wake-ups timed")
    args = parser.parse_args()
    awake, took = asyncio.run(_measure(args.modules, args.wakes))
    wake_p50 = _p(took, 0.5)
    rows: list[tuple[str, ...]] = [
        ("wake: publish -> handled", "1", f"{wake_p50:.2f}", f"{_p(took, 0.99):.2f}", "", "1.00"),
        ("awake module's event", "", f"{_p(awake, 0.5):.2f}", f"{_p(awake, 0.99):.2f}", "",
         f"{_p(awake, 0.5) / wake_p50:.2f}"),
    ]  # fmt: skip
    for step, samples in _STEPS.items():
        samples.sort()
        cpu = sorted(_CPU[step])
        per_wake = len(samples) / len(took)
        share = _p(samples, 0.5) * per_wake / wake_p50
        rows.append(
            (step, f"{per_wake:.0f}", f"{_p(samples, 0.5):.2f}", f"{_p(samples, 0.99):.2f}",
             f"{_p(cpu, 0.5):.2f}", f"{share:.2f}")
        )  # fmt: skip
    print_table(
        f"Wake-up breakdown: {args.modules:,} hibernated modules, {len(took)} wakes",
        rows,
        ("step", "per wake", "p50 ms", "p99 ms", "CPU p50 ms", "share of wake p50"),
    )


if __name__ == "__main__":
    main()
