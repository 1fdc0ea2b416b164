"""An instance rebuilt inside another call runs a read-only init, as it does at load.

A trap in a tool or hook call discards the instance; the next call rebuilds
it and runs the guest's init first. That init must not write through the
call's own, committable overlay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects, ReadOnlyEffects
from cove._hosts._wasm_runtime import WasmRuntime
from cove._types import EmptyState
from cove.errors import HostCallError, LimitExceededError
from tests.helpers.security import load_probe, op_event

pytestmark = pytest.mark.usefixtures("call_path")


def test_the_init_of_a_rebuilt_instance_gets_a_read_only_view_of_the_call(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_probe(tmp_path, probe_wasm, runtime, {})
    host, quota = loaded.host, loaded.grants.limits.state_bytes

    def gate() -> HostCalls:
        return HostCalls(loaded.grants, EventEffects("probe", EmptyState(), quota), {}, None,
                         lambda *_: None)  # fmt: skip

    host.init(gate().read_only())
    with pytest.raises(LimitExceededError):  # a trap: the instance is discarded
        host.handle(op_event("probe", "recurse"), 1, gate())
    inits: list[HostCalls] = []
    init = host.init
    monkeypatch.setattr(host, "init", lambda calls: (inits.append(calls), init(calls))[1])
    calls = gate()
    host.handle(op_event("probe", "count"), 1, calls)
    (rebuilt,) = inits
    assert rebuilt is not calls and isinstance(rebuilt.effects, ReadOnlyEffects)
    with pytest.raises(HostCallError, match="not allowed in init"):
        rebuilt.effects.set("k", b"v")
    assert calls.effects.writes  # the event itself wrote its count
    host.close()
