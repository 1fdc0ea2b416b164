"""One wasmtime engine per cove engine and compiler: limits config, epoch ticker, compile cache."""

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
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from ..errors import ContractError
from ._compiler import Compiler, Strategy, default_compiler, engine_config
from ._shared_linker import SharedLinkers
from ._tiering import Tiering
from ._wasi_clock import ClockHelper

WASMTIME_VERSION = importlib.metadata.version("wasmtime")

Progress = Callable[[str], None]


class Tier:
    """One wasmtime engine (one code generator) and what instances of its components need:
    a Store, the WASI clock helper and the shared linkers all belong to one engine."""

    def __init__(self, strategy: Strategy, tick_ms: int) -> None:
        self.strategy: Strategy = strategy
        self.engine = wasmtime.Engine(engine_config(strategy))
        self.clock = ClockHelper(self.engine)
        self.linkers = SharedLinkers(self.engine, tick_ms)


@dataclass
class Loaded:
    """A module's compiled component, the tier it runs on and, when that is the baseline,
    the optimized compile under way (its result replaces it at an event boundary)."""

    component: Component
    tier: Tier
    optimized: Future[Component] | None = None


class WasmRuntime:
    """Shared wasmtime ``Engine``; modules get their own ``Store`` from it.

    Fuel and epoch interruption are switched on for every module so that
    every call is bounded; the ticker thread advances the epoch every
    ``tick_ms`` milliseconds, which is the resolution of wall-clock deadlines.
    ``compiler`` (``[wasm] compiler``) picks the code generator: with
    ``tiered`` a second engine (Winch) runs what Cranelift has not compiled yet.
    """

    def __init__(
        self, cache_dir: Path, tick_ms: int = 10, compiler: Compiler | None = None
    ) -> None:
        self.compiler: Compiler = compiler or default_compiler()
        self.tick_ms = tick_ms
        self.optimized = Tier("winch" if self.compiler == "winch" else "cranelift", tick_ms)
        self.engine = self.optimized.engine
        self.clock = self.optimized.clock
        self.linkers = self.optimized.linkers
        self.cache = ComponentCache(cache_dir)
        self._tiers = [self.optimized]
        self._baseline: Tier | None = None
        self._tier_lock = threading.Lock()
        self.tiering = Tiering(self._compile_optimized)
        self._longest = 1
        """The most epoch ticks any call was given (``deadline_ticks``)."""
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="cove-epoch", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        interval = self.tick_ms / 1000
        while not self._stop.wait(interval):
            for tier in self._tiers:
                tier.engine.increment_epoch()

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
        for tier in self._tiers:
            for _ in range(self._longest + 1):
                tier.engine.increment_epoch()

    @property
    def baseline(self) -> Tier:
        """Winch's engine (``tiered``), made on the first cache miss."""
        with self._tier_lock:
            if self._baseline is None:
                self._baseline = Tier("winch", self.tick_ms)
                self._tiers = [*self._tiers, self._baseline]
            return self._baseline

    def load(self, module: str, wasm: bytes, progress: Progress | None = None) -> Component:
        """The component compiled by ``optimized``'s engine (compiled now on a cache miss)."""
        return self.cache.load(self.optimized, module, wasm, progress)

    def load_first(self, module: str, wasm: bytes, progress: Progress | None = None) -> Loaded:
        """What a module runs first: the optimized code when it is cached or compiled here;
        else (``tiered``) Winch's, with Cranelift's compile started in the background."""
        if self.compiler != "tiered" or self.cache.has(self.optimized, wasm):
            return Loaded(self.load(module, wasm, progress), self.optimized)
        baseline = self.baseline
        component = self.cache.load(baseline, module, wasm, progress)
        optimized = self.tiering.start(self.cache.digest(wasm), module, wasm)
        return Loaded(component, baseline, optimized)

    def _compile_optimized(self, module: str, wasm: bytes) -> Component:
        """The background compile (``Tiering``): into the cache, then Winch's entry goes."""
        component = self.cache.load(self.optimized, module, wasm, None)
        if self._baseline is not None:
            self.cache.entry(self.cache.digest(wasm), "winch").unlink(missing_ok=True)
        return component

    def precompile(self, module: str, wasm: bytes, progress: Progress | None = None) -> None:
        """Compile into the cache unless an entry is there already (not read here: the
        module's ``load`` reads it, and compiles again if wasmtime refuses it). ``tiered``:
        Winch's entry now and Cranelift's in the background."""
        if self.compiler == "tiered":
            if not self.cache.has(self.optimized, wasm):
                self.load_first(module, wasm, progress)
        elif not self.cache.has(self.optimized, wasm):
            self.load(module, wasm, progress)

    def has_compiled(self, pin: str) -> bool:
        """Whether the cache holds an optimized entry for the component pinned ``sha256:<hex>``."""
        return self.cache.entry(pin.removeprefix("sha256:"), self.optimized.strategy).exists()

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=1)


class ComponentCache:
    """Compiled components on disk, keyed by content hash, wasmtime version, CPU and compiler.

    One directory may be shared by every process of a user (see ``_cache_dir``):
    an entry is written to a temporary file and renamed into place, so a
    reader sees a whole artifact or none, and an entry wasmtime refuses
    (truncated, foreign, another engine config) is compiled again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._live: weakref.WeakValueDictionary[tuple[str, Strategy], Component] = (
            weakref.WeakValueDictionary()
        )
        """Every loaded module with the same bytes (and compiler) shares one Component (its
        compiled code, mapped once), however many modules run or hibernate."""
        self._lock = threading.Lock()
        self._hashed: list[tuple[bytes, str]] = []

    def entry(self, digest: str, strategy: Strategy = "cranelift") -> Path:
        """Where the component whose sha256 is ``digest`` (hex) is kept compiled by
        ``strategy``. Cranelift's name is the one entries had before Winch was used, so
        caches filled then stay warm; Winch's carries ``-winch``: the two never mix."""
        compiler = "" if strategy == "cranelift" else f"-{strategy}"
        return self.directory / (
            f"{digest}-wasmtime{WASMTIME_VERSION}{compiler}-{target_tag()}.cwasm"
        )

    def path_for(self, wasm: bytes, strategy: Strategy = "cranelift") -> Path:
        return self.entry(self.digest(wasm), strategy)

    def has(self, tier: Tier, wasm: bytes) -> bool:
        """Whether ``tier``'s code for ``wasm`` is loaded in this process or on disk."""
        digest = self.digest(wasm)
        with self._lock:
            if (digest, tier.strategy) in self._live:
                return True
        return self.entry(digest, tier.strategy).exists()

    def load(self, tier: Tier, module: str, wasm: bytes, progress: Progress | None) -> Component:
        # Keyed by the bytes' own hash, never by a manifest's pin: `cove check` runs a
        # component whose pin is stale, and must run those bytes.
        key = (self.digest(wasm), tier.strategy)
        with self._lock:
            component = self._live.get(key)
        if component is None:  # compiled outside the lock: others compile meanwhile
            component = self._load(tier, module, wasm, self.entry(*key), progress)
            with self._lock:
                component = self._live.setdefault(key, component)
        return component

    def digest(self, wasm: bytes) -> str:
        """sha256 of ``wasm``; the same bytes object (every module of one component file,
        read once: ``_supply._component``) is hashed once."""
        with self._lock:
            for seen, digest in self._hashed:
                if seen is wasm:
                    return digest
        digest = hashlib.sha256(wasm).hexdigest()
        with self._lock:
            self._hashed = [(wasm, digest), *self._hashed[:3]]
        return digest

    def _load(
        self, tier: Tier, module: str, wasm: bytes, path: Path, progress: Progress | None
    ) -> Component:
        if path.exists():
            try:
                return Component.deserialize_file(tier.engine, str(path))
            except wasmtime.WasmtimeError:
                # Stale or truncated artifact (e.g. written by a different
                # engine config): drop it and compile again.
                path.unlink(missing_ok=True)
        if progress is not None:
            progress(
                f"compiling {module} ({len(wasm) / 1e6:.1f} MB, {tier.strategy}); "
                "cached after the first time"
            )
        start = time.monotonic()
        try:
            component = Component(tier.engine, wasm)
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
