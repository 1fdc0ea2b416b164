"""The background compiles of tiered compilation: one per component, one at a time."""

from __future__ import annotations

import threading
import time
from typing import Any

from cove._hosts._tiering import Tiering


class Recorder:
    """A stand-in for Cranelift's compile: takes a while, counts who ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.compiled: list[str] = []

    def __call__(self, module: str, wasm: bytes) -> Any:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
            self.compiled.append(module)
        return object()


def test_compiles_of_different_components_run_one_at_a_time() -> None:
    """Each already spreads over the cores; two at once only add memory (hundreds of
    MB each for an 18 MB guest) and share the cores the events run on. Across the
    process: engines started one after another (tests) must not pile compiles up."""
    compile = Recorder()
    tiering, other_runtimes = Tiering(compile), Tiering(compile)
    futures = [tiering.start(f"digest{n}", f"m{n}", b"") for n in range(2)]
    futures.append(other_runtimes.start("digest2", "m2", b""))  # the process's, not one's
    for future in futures:
        future.result(timeout=5)
    assert 1 == compile.most
    assert ["m0", "m1", "m2"] == sorted(compile.compiled)


def test_modules_of_one_component_share_its_compile() -> None:
    compile = Recorder()
    tiering = Tiering(compile)
    first, second = tiering.start("same", "a", b""), tiering.start("same", "b", b"")
    assert first is second
    first.result(timeout=5)
    assert ["a"] == compile.compiled
