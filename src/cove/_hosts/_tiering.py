"""Tiered compilation: Cranelift's compile of a component, on a thread of its own.

Design note. On a cache miss under ``[wasm] compiler = "tiered"`` a module
starts on Winch's code (compiled in a fraction of Cranelift's time) and this
compiles the optimized code meanwhile, once per component however many
modules share it. Each module moves to the result at its next event
boundary, the way a hibernated module wakes (``WasmModuleHost``: its
instance is dropped, the next call instantiates the new code and runs
``init``). A compile that fails is logged here, once per component, and
the modules stay on Winch's code until the engine restarts. Compiles run one
after another in a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

import structlog
from wasmtime.component import Component

log = structlog.get_logger("cove.wasm")

_ONE_AT_A_TIME = threading.Lock()
"""Per process: a compile already spreads over the cores, so two at once only add
memory (hundreds of MB each for an 18 MB guest) and take the cores events run on. An
engine started after another's compile of the same component waits for it, then
reads its cache entry instead of compiling (``ComponentCache.load``)."""

Compile = Callable[[str, bytes], Component]
"""(module, wasm) -> the optimized component, stored in the cache."""


class Tiering:
    """The optimized compiles under way, by component digest."""

    def __init__(self, compile_optimized: Compile) -> None:
        self.compile = compile_optimized
        self._lock = threading.Lock()
        self._running: dict[str, Future[Component]] = {}
        self._failed: dict[str, Future[Component]] = {}
        """Not tried again in this process: one log line per component, not per module."""

    def start(self, digest: str, module: str, wasm: bytes) -> Future[Component]:
        """The compile of ``digest``'s optimized code: the one under way, else a new one."""
        with self._lock:
            running = self._running.get(digest) or self._failed.get(digest)
            if running is not None:
                return running
            future: Future[Component] = Future()
            self._running[digest] = future
        threading.Thread(
            target=self._run, args=(digest, module, wasm, future), name="cove-optimize", daemon=True
        ).start()
        return future

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _run(self, digest: str, module: str, wasm: bytes, future: Future[Component]) -> None:
        try:
            with _ONE_AT_A_TIME:
                component = self.compile(module, wasm)
        except Exception as exc:  # any failure leaves the modules on the baseline code
            log.warning(
                "optimized compile failed; modules keep running on Winch's code",
                module=module,
                component=digest,
                error=f"{type(exc).__name__}: {exc}",
            )
            with self._lock:
                self._failed[digest] = self._running.pop(digest)
            future.set_exception(exc)
            return
        with self._lock:
            del self._running[digest]
        future.set_result(component)
