"""Cold start: engine start to ready, a control command's wall time, and a first compile.

Every row is measured in this run, each next to a baseline from the same run
(the machine is shared, so absolute figures move with its load; ratios less):

- ``cove run`` with five wasm modules, spawn -> ``/health/ready`` 200: the second
  start (compiled cache warm) against the first (empty cache: every module
  compiles, as every new data dir did when the cache lived under it) and
  against the same engine with no modules (the engine's own floor); and the
  same two starts in this process, imports already paid.
- ``cove module list`` against that engine (a fresh process, spawn -> exit)
  against ``python -c pass`` and against importing the engine eagerly (what
  every command paid before the CLI imported lazily).
- Compiling the 18 MB bench component (bench/assets/two_calls, a
  componentize-py guest) with Cranelift (cove's optimized code), against the
  same with wasmtime's parallel compilation switched off, with cranelift's
  optimizations off (shown, not used) and with Winch (what ``[wasm] compiler =
  "tiered"`` runs first; bench/first_compile.py times compile -> module ready).
  The first start runs ``tiered``; its second row is the time until the
  background compile has cached Cranelift's code (the second start reads it).

Run: .venv/bin/python bench/cold_start.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import wasmtime
from _common import BENCH, bench_guest, median, print_table, rounds_argument
from wasmtime.component import Component

from cove._app import App
from cove._config import load_config
from cove._hosts._compiler import Strategy, engine_config
from cove._hosts._wasm_runtime import ComponentCache
from cove._observe._logging import configure_logging

BIN = Path(sys.executable).parent
TOKEN = "cold-start-bench-token"
MODULES = 5
TARGETS = {"second start": 1.5, "module list": 0.3, "compile": 6.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_engine(tmp: Path, modules: int, guest: tuple[str, bytes]) -> tuple[Path, str]:
    """An engine config with ``modules`` copies of the bench guest (distinct names), the
    compiled cache under ``tmp``'s parent and a control plane; returns (config, URL)."""
    pin, wasm = guest
    tmp.mkdir(parents=True)
    paths = []
    for n in range(modules):
        module = tmp / f"m{n}"
        module.mkdir(parents=True, exist_ok=True)
        (module / "two_calls.wasm").write_bytes(wasm)
        text = (BENCH / "assets" / "two_calls" / "cove.toml").read_text()
        text = text.replace('name = "two-calls"', f'name = "m{n}"')
        text = text.replace(f'sha256 = "sha256:{"0" * 64}"', f'sha256 = "{pin}"')
        (module / "cove.toml").write_text(text)
        paths.append(str(module))
    port = free_port()
    config = tmp / f"engine-{modules}.toml"
    config.write_text(
        f"data_dir = {json.dumps(str(tmp / 'data'))}\nmodules = {json.dumps(paths)}\n"
        + f"[wasm]\ncache_dir = {json.dumps(str(tmp.parent / 'compiled'))}\n"
        + 'compiler = "tiered"\n'
        + f'[trajectories]\nenabled = false\n[control]\nhost = "127.0.0.1"\nport = {port}\n'
        + 'token_env = "COLD_START_TOKEN"\n'
    )
    return config, f"http://127.0.0.1:{port}"


def start_to_ready(config: Path, url: str) -> tuple[float, subprocess.Popen[bytes]]:
    """Seconds from spawning ``cove run`` until /health/ready answers 200; the process."""
    env = {**os.environ, "COLD_START_TOKEN": TOKEN}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "cove"), "run", "--config", str(config), "--no-trace"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with httpx.Client(timeout=1) as client:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"cove run --config {config} exited {proc.returncode}")
            try:
                if client.get(f"{url}/health/ready").status_code == 200:
                    return time.perf_counter() - start, proc
            except httpx.TransportError:
                pass
            time.sleep(0.005)


def in_process_start(config: Path) -> float:
    """Seconds ``App.start()`` takes in this process (imports already paid): what the
    engine itself spends on a start, apart from the interpreter and its imports."""

    async def once() -> float:
        app = App(load_config(config))
        start = time.perf_counter()
        await app.start()
        seconds = time.perf_counter() - start
        await app.stop()
        return seconds

    return asyncio.run(once())


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def compile_seconds(
    wasm: bytes, parallel: bool, opt_level: str = "speed", strategy: Strategy = "cranelift"
) -> float:
    config = engine_config(strategy)
    config.parallel_compilation = parallel
    if strategy == "cranelift":
        config.cranelift_opt_level = opt_level
    engine = wasmtime.Engine(config)
    start = time.perf_counter()
    Component(engine, wasm)
    return time.perf_counter() - start


def row(label: str, samples: list[float], target: float | None, base: float) -> tuple[str, ...]:
    figure = median(samples)
    met = "" if target is None else ("yes" if figure <= target else "NO")
    goal = "" if target is None else f"≤ {target:g}"
    return (label, f"{figure:.3f}", f"{figure / base:.2f}", goal, met)


def main(rounds: int) -> None:
    load_before = os.getloadavg()[0]
    manifest, wasm = bench_guest()
    assert manifest.module.sha256 is not None
    guest = (manifest.module.sha256, wasm)
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(prefix="cove-cold-") as tmp_name:
        tmp = Path(tmp_name)
        floor_config, floor_url = write_engine(tmp / "floor", 0, guest)
        config, url = write_engine(tmp / "five", MODULES, guest)

        floor = []
        for _ in range(rounds):
            seconds, proc = start_to_ready(floor_config, floor_url)
            floor.append(seconds)
            stop(proc)
        spawned = time.perf_counter()
        first, proc = start_to_ready(config, url)  # empty cache: compiles (tiered)
        optimized = ComponentCache(tmp / "compiled").entry(guest[0].removeprefix("sha256:"))
        while not optimized.exists():  # Cranelift's code cached by the background compile
            time.sleep(0.05)
        first_optimized = time.perf_counter() - spawned
        stop(proc)
        second = []
        for _ in range(rounds):
            seconds, proc = start_to_ready(config, url)
            second.append(seconds)
            if len(second) < rounds:
                stop(proc)
        base = median(floor)
        rows.append(row("engine, no modules: spawn -> ready", floor, None, base))
        rows.append(row(f"{MODULES} wasm modules, first start (empty cache)", [first], None, base))
        rows.append(
            row("  the same, until Cranelift's code is cached", [first_optimized], None, base)
        )
        rows.append(
            row(f"{MODULES} wasm modules, second start", second, TARGETS["second start"], base)
        )

        try:  # control commands against the running five-module engine
            env = {**os.environ, "COVE_TOKEN": TOKEN}
            pass_ = [wall([sys.executable, "-c", "pass"]) for _ in range(rounds)]
            eager = [
                wall([sys.executable, "-c", "import cove._engine._engine, cove._cli._main"])
                for _ in range(rounds)
            ]
            listing = [
                wall([str(BIN / "cove"), "module", "list", "--url", url], env)
                for _ in range(rounds)
            ]
        finally:
            stop(proc)
        os.environ["COLD_START_TOKEN"] = TOKEN
        configure_logging("json", 40)
        inner_floor = [in_process_start(floor_config) for _ in range(rounds)]
        inner = [in_process_start(config) for _ in range(rounds)]
        base = median(pass_)
        rows.append(row("python -c pass", pass_, None, base))
        rows.append(row("import the engine eagerly (as before)", eager, None, base))
        rows.append(row("cove module list", listing, TARGETS["module list"], base))
        base = median(inner_floor)
        rows.append(row("in process: App.start(), no modules", inner_floor, None, base))
        rows.append(row(f"in process: App.start(), {MODULES} wasm modules", inner, None, base))

    serial = [compile_seconds(wasm, parallel=False)]
    parallel = [compile_seconds(wasm, parallel=True)]
    unoptimized = [compile_seconds(wasm, parallel=True, opt_level="none")]
    winch = [compile_seconds(wasm, parallel=True, strategy="winch")]
    base = median(serial)
    rows.append(row("compile 18 MB, cranelift, parallel compilation off", serial, None, base))
    rows.append(row("compile 18 MB, cranelift (optimized code)", parallel, None, base))
    rows.append(row("compile 18 MB, cranelift opt_level none (not used)", unoptimized, None, base))
    rows.append(
        row("compile 18 MB, winch (what tiered runs first)", winch, TARGETS["compile"], base)
    )

    print_table(
        f"cold start ({rounds} rounds; {os.cpu_count()} CPUs; load {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after); seconds, ratio to the row group's first row",
        rows,
        ("what", "seconds", "ratio", "target", "met"),
    )


if __name__ == "__main__":
    main(rounds_argument(__doc__, 3))
