"""A wasm host nobody holds is freed: unloading or reloading modules does not leak them.

wasmtime-py keeps a store's WASI output callbacks in a global table until the
store is dropped; a callback holding its host strongly kept every host (its
store, instance and linear memory) alive for good.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._hosts._wasm_runtime import WasmRuntime
from cove._types import EmptyState
from tests.helpers.security import load_probe, op_event

pytestmark = pytest.mark.usefixtures("call_path")


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "dropped"])
def test_a_wasm_host_that_printed_is_freed_once_nothing_holds_it(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, closed: bool
) -> None:
    loaded = load_probe(tmp_path, probe_wasm, runtime, {})
    effects = EventEffects("probe", EmptyState(), loaded.grants.limits.state_bytes)
    calls = HostCalls(loaded.grants, effects, {}, None, lambda *_: None)
    loaded.host.init(calls.read_only())
    loaded.host.handle(op_event("probe", "print"), 1, calls)  # guest output went through
    freed = weakref.ref(loaded.host)
    if closed:
        loaded.host.close()
    del loaded, calls, effects
    gc.collect()
    assert freed() is None
