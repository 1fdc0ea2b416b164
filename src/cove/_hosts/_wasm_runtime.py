"""One wasmtime engine per cove engine: limits config, epoch ticker, compile cache."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from functools import cache
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from ..errors import ContractError
from ._shared_linker import SharedLinkers
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
        self.engine = wasmtime.Engine(engine_config())
        self.tick_ms = tick_ms
        self.cache = ComponentCache(cache_dir)
        self.clock = ClockHelper(self.engine)
        self.linkers = SharedLinkers(self.engine, tick_ms)
        self._longest = 1
        """The most epoch ticks any call was given (``deadline_ticks``)."""
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="cove-epoch", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        interval = self.tick_ms / 1000
        while not self._stop.wait(interval):
            self.engine.increment_epoch()

    def deadline_ticks(self, timeout_ms: int) -> int:
        ticks = max(1, -(-timeout_ms // self.tick_ms))
        if ticks > self._longest:
            self._longest = ticks
        return ticks

    def interrupt(self) -> None:
        """Trap every guest running code now: the epoch moves past the furthest deadline
        any call was given (a call's deadline is set from the epoch at its start, so calls
        begun later are not touched). Setting another thread's store deadline is not
        thread-safe; the engine's epoch counter is."""
        for _ in range(self._longest + 1):
            self.engine.increment_epoch()

    def load(self, module: str, wasm: bytes, progress: Progress | None = None) -> Component:
        return self.cache.load(self.engine, module, wasm, progress)

    def precompile(self, module: str, wasm: bytes, progress: Progress | None = None) -> None:
        """Compile into the cache unless an entry is there already (not read here: the
        module's ``load`` reads it, and compiles again if wasmtime refuses it)."""
        if not self.cache.path_for(wasm).exists():
            self.load(module, wasm, progress)

    def has_compiled(self, pin: str) -> bool:
        """Whether the cache holds an entry for the component pinned ``sha256:<hex>``."""
        return self.cache.entry(pin.removeprefix("sha256:")).exists()

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=1)


def engine_config() -> wasmtime.Config:
    """Fuel and epochs on (every call bounded). Compilation keeps wasmtime's defaults:
    parallel compilation across the cores and cranelift at ``speed`` (see
    docs/performance.md, *Cold start*, for the figures behind that choice)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    return config


class ComponentCache:
    """Compiled components on disk, keyed by content hash, wasmtime version and CPU.

    One directory may be shared by every process of a user (see ``_cache_dir``):
    an entry is written to a temporary file and renamed into place, so a
    reader sees a whole artifact or none, and an entry wasmtime refuses
    (truncated, foreign, another engine config) is compiled again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._live: weakref.WeakValueDictionary[str, Component] = weakref.WeakValueDictionary()
        """Every loaded module with the same bytes shares one Component (its compiled
        code, mapped once), however many modules run or hibernate."""
        self._lock = threading.Lock()
        self._hashed: list[tuple[bytes, str]] = []

    def path_for(self, wasm: bytes) -> Path:
        return self.entry(hashlib.sha256(wasm).hexdigest())

    def entry(self, digest: str) -> Path:
        """Where the component whose sha256 is ``digest`` (hex) is kept compiled."""
        return self.directory / f"{digest}-wasmtime{WASMTIME_VERSION}-{target_tag()}.cwasm"

    def load(
        self, engine: wasmtime.Engine, module: str, wasm: bytes, progress: Progress | None
    ) -> Component:
        # Keyed by the bytes' own hash, never by a manifest's pin: `cove check` runs a
        # component whose pin is stale, and must run those bytes.
        with self._lock:
            digest = self._digest(wasm)
            component = self._live.get(digest)
        if component is None:  # compiled outside the lock: others compile meanwhile
            component = self._load(engine, module, wasm, digest, progress)
            with self._lock:
                component = self._live.setdefault(digest, component)
        return component

    def _digest(self, wasm: bytes) -> str:
        """sha256 of ``wasm``; the same bytes object (every module of one component file,
        read once: ``_supply._component``) is hashed once. Under the lock."""
        for seen, digest in self._hashed:
            if seen is wasm:
                return digest
        digest = hashlib.sha256(wasm).hexdigest()
        self._hashed = [(wasm, digest), *self._hashed[:3]]
        return digest

    def _load(
        self,
        engine: wasmtime.Engine,
        module: str,
        wasm: bytes,
        digest: str,
        progress: Progress | None,
    ) -> Component:
        path = self.entry(digest)
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
        self._store(path, component.serialize())
        if progress is not None:
            progress(f"compiled {module} in {time.monotonic() - start:.1f}s")
        return component

    def _store(self, path: Path, artifact: bytes | bytearray) -> None:
        """Write-then-rename: a unique temporary name per writer, so concurrent
        compiles of one component (two processes, or two modules in one) never
        interleave; the last rename wins with an identical artifact."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(artifact)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@cache
def target_tag() -> str:
    """The machine a compiled artifact is for: architecture plus a digest of the CPU's
    feature flags, so a cache shared between machines (a network home) keeps one
    entry per CPU instead of each machine recompiling over the other's."""
    return f"{platform.machine() or 'unknown'}-{_cpu_features_digest()}"


def _cpu_features_digest() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            flags = next((line for line in info if line.startswith(("flags", "Features"))), "")
    except OSError:  # not Linux
        flags = platform.processor()
    return hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:12]


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
