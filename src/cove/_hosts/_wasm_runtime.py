"""One wasmtime engine per cove engine: limits config, epoch ticker, compile cache."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from ..errors import ContractError
from ._wasi_clock import ClockHelper

WASMTIME_VERSION = importlib.metadata.version("wasmtime")

Progress = Callable[[str], None]


class WasmRuntime:
    """Shared wasmtime ``Engine``; modules get their own ``Store`` from it.

    Fuel and epoch interruption are switched on for every module so that
    every call is bounded; the ticker thread advances the epoch every
    ``tick_ms`` milliseconds, which is the resolution of wall-clock deadlines.
    """

    def __init__(self, cache_dir: Path, tick_ms: int = 10) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.tick_ms = tick_ms
        self.cache = ComponentCache(cache_dir)
        self.clock = ClockHelper(self.engine)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="cove-epoch", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        interval = self.tick_ms / 1000
        while not self._stop.wait(interval):
            self.engine.increment_epoch()

    def deadline_ticks(self, timeout_ms: int) -> int:
        return max(1, -(-timeout_ms // self.tick_ms))

    def load(self, module: str, wasm: bytes, progress: Progress | None = None) -> Component:
        return self.cache.load(self.engine, module, wasm, progress)

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=1)


class ComponentCache:
    """Compiled components on disk, keyed by content hash and wasmtime version."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, wasm: bytes) -> Path:
        digest = hashlib.sha256(wasm).hexdigest()
        return self.directory / f"{digest}-wasmtime{WASMTIME_VERSION}.cwasm"

    def load(
        self, engine: wasmtime.Engine, module: str, wasm: bytes, progress: Progress | None
    ) -> Component:
        path = self.path_for(wasm)
        if path.exists():
            try:
                return Component.deserialize_file(engine, str(path))
            except wasmtime.WasmtimeError:
                # Stale or truncated artifact (e.g. written by a different
                # engine config): drop it and compile again.
                path.unlink(missing_ok=True)
        if progress is not None:
            progress(f"compiling {module} ({len(wasm) / 1e6:.1f} MB); cached after the first time")
        start = time.monotonic()
        try:
            component = Component(engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ContractError(
                module, f"not a valid WebAssembly component: {_first_line(exc)}"
            ) from None
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(component.serialize())
        os.replace(tmp, path)
        if progress is not None:
            progress(f"compiled {module} in {time.monotonic() - start:.1f}s")
        return component


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
