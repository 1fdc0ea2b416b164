"""A guest's huge error text: cut by the call path (now) vs decoded whole, then cut (before).

The hostile guest raises a ValueError of SIZE characters on every call; its
host turns the returned ``result<_, string>`` error into a ModuleFailedError.
Two sides on each call path (C extension, ctypes), taking turns ROUNDS times
in one run: "cut" is the call path as built (only the kept 2,048 characters
are decoded) and "whole" the way before it (the whole text decoded into a
str, then cut with ``clip``). Per call: wall time, the calling thread's CPU,
and the longest stall of a thread sleeping 1 ms meanwhile (how long the GIL
was kept from a neighbour).

Run: .venv/bin/python bench/guest_error_cut.py [--calls N] [--rounds R] [--size CHARS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import BENCH, engine_bench_args, median, print_table

from cove._capabilities._bounds import MAX_ERROR_CHARS, clip
from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._hosts import _fast_call
from cove._hosts._call_path import CallPath
from cove._hosts._wasm_runtime import WasmRuntime
from cove._types import EmptyState
from cove.errors import ModuleFailedError

sys.path.insert(0, str(BENCH.parent))  # the test suite's guests and manifests

from tests.helpers import modules  # isort: skip (needs the path above)
from tests.helpers.modules import CACHE, build_guest  # isort: skip
from tests.helpers.security import load_probe, op_event  # isort: skip

HOSTILE = ["events", "http", "logging", "messaging", "store"]


@contextmanager
def _whole_then_clip() -> Iterator[None]:
    """CallPath.func as before: the error text decoded whole, cut by the host afterwards."""
    made = CallPath.func

    def func(self: CallPath, store: Any, export: Any, params: list[Any]) -> Any:
        if self.compiled:
            context = _fast_call._address(store._context())
            shapes = [_fast_call._EXT.Shape(t) for t in params]
            address = _fast_call.ctypes.addressof(export._func)
            inner = _fast_call._EXT.Func((store, export), address, context, shapes)
        else:
            inner = _fast_call.FastFunc(store, export, params)

        def call(*args: Any) -> str | None:
            text: str | None = inner(*args)
            return None if text is None else clip(text, MAX_ERROR_CHARS)

        return call

    CallPath.func = func  # type: ignore[method-assign]
    try:
        yield
    finally:
        CallPath.func = made  # type: ignore[method-assign]


def _stalls(stop: threading.Event, into: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        time.sleep(0.001)
        into.append((time.perf_counter() - start - 0.001) * 1000)


def _side(tmp: Path, wasm: Path, path: str, whole: bool, calls: int, size: int) -> list[float]:
    """Per call: wall ms, thread CPU ms; then the worst 1 ms sleeper stall ms of the run."""
    runtime = WasmRuntime(CACHE / "compiled")
    modules.WASM_CALL_PATH = path  # the engine config load_probe writes picks the path
    walls: list[float] = []
    cpus: list[float] = []
    stalls: list[float] = []
    try:
        with _whole_then_clip() if whole else _no_change():
            _calls(tmp, wasm, runtime, calls, size, (walls, cpus, stalls))
    finally:
        runtime.close()
    return [median(walls), median(cpus), max(stalls)]


def _calls(
    tmp: Path, wasm: Path, runtime: WasmRuntime, calls: int, size: int,
    into: tuple[list[float], list[float], list[float]],
) -> None:  # fmt: skip
    walls, cpus, stalls = into
    loaded = load_probe(tmp, wasm, runtime, {})
    host, grants = loaded.host, loaded.grants

    def gate() -> HostCalls:
        effects = EventEffects("probe", EmptyState(), grants.limits.state_bytes)
        return HostCalls(grants, effects, {}, None, lambda *_: None)

    host.init(gate().read_only())
    event = op_event("probe", "raise-big", size=size)
    stop = threading.Event()
    sleeper = threading.Thread(target=_stalls, args=(stop, stalls))
    sleeper.start()
    for _ in range(calls):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            host.handle(event, 1, gate())
        except ModuleFailedError as exc:
            assert str(exc).endswith("more characters cut]"), str(exc)[-80:]
        cpus.append((time.thread_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    stop.set()
    sleeper.join()
    host.close()


@contextmanager
def _no_change() -> Iterator[None]:
    yield


def main(calls: int, rounds: int, size: int) -> None:
    wasm = build_guest("hostile", HOSTILE)
    paths = ["fast", "ctypes"] if _fast_call.COMPILED else ["ctypes"]
    rows: list[tuple[str, ...]] = []
    for path in paths:
        results: dict[bool, list[list[float]]] = {False: [], True: []}
        for turn in range(rounds):
            for whole in (False, True) if turn % 2 == 0 else (True, False):
                with tempfile.TemporaryDirectory(prefix="cove-errcut-") as tmp:
                    results[whole].append(_side(Path(tmp), wasm, path, whole, calls, size))
        base = [median([r[i] for r in results[True]]) for i in range(3)]
        for whole in (True, False):
            wall, cpu, stall = (median([r[i] for r in results[whole]]) for i in range(3))
            rows.append(
                (
                    "C extension" if path == "fast" else "ctypes",
                    "decoded whole, then cut (before)" if whole else "cut before decoding",
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    f"{stall:.1f}",
                    f"{cpu / base[1]:.2f}x",
                )
            )
    print_table(
        f"a {size:,}-character exception per call, {calls} calls x {rounds} rounds per side",
        rows,
        (
            "path",
            "side",
            "wall ms",
            "thread CPU ms",
            "worst 1 ms-sleeper stall ms",
            "CPU vs before",
        ),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=30, help="calls per side per round")
    parser.add_argument("--rounds", type=int, default=4, help="turns of the two sides")
    parser.add_argument("--size", type=int, default=5_000_000, help="characters raised")
    args = engine_bench_args(parser)
    main(args.calls, args.rounds, args.size)
