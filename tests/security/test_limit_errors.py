"""Each blown limit surfaces from the wasm host as LimitExceededError naming that limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._engine._loader import LoadedModule
from cove._hosts._wasm_runtime import WasmRuntime
from cove._types import EmptyState
from cove.errors import LimitExceededError, ModuleFailedError
from tests.helpers.security import load_probe, op_event

pytestmark = pytest.mark.usefixtures("call_path")


def calls_for(loaded: LoadedModule) -> HostCalls:
    effects = EventEffects("probe", EmptyState(), loaded.grants.limits.state_bytes)
    return HostCalls(loaded.grants, effects, {}, None, lambda *_: None)


@pytest.mark.parametrize(
    ("op", "resources", "limit"),
    [
        pytest.param("loop", {"fuel": 100_000_000}, "fuel", id="fuel"),
        pytest.param(
            "loop", {"timeout": "200ms", "fuel": 50_000_000_000}, "deadline", id="deadline"
        ),
        pytest.param("flood", {"host_calls": 100}, "host-calls", id="host-calls"),
    ],
)
def test_blown_budget_raises_limit_exceeded_naming_the_limit(
    tmp_path: Path,
    probe_wasm: Path,
    runtime: WasmRuntime,
    op: str,
    resources: dict[str, object],
    limit: str,
) -> None:
    loaded = load_probe(tmp_path, probe_wasm, runtime, resources)
    loaded.host.init(calls_for(loaded))
    with pytest.raises(LimitExceededError) as stopped:
        loaded.host.handle(op_event("probe", op), 1, calls_for(loaded))
    assert ("probe", limit) == (stopped.value.module, stopped.value.limit)


def test_memory_cap_below_the_initial_memory_raises_a_memory_limit_error(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime
) -> None:
    loaded = load_probe(tmp_path, probe_wasm, runtime, {"memory": "8MiB"})
    with pytest.raises(LimitExceededError) as stopped:
        loaded.host.init(calls_for(loaded))
    assert ("probe", "memory") == (stopped.value.module, stopped.value.limit)


def test_host_survives_a_blown_budget_and_handles_the_next_event(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime
) -> None:
    """After a trap the instance is rebuilt (init runs again) for the next call."""
    loaded = load_probe(tmp_path, probe_wasm, runtime, {"fuel": 100_000_000})
    loaded.host.init(calls_for(loaded))
    with pytest.raises(LimitExceededError):
        loaded.host.handle(op_event("probe", "loop"), 1, calls_for(loaded))
    calls = calls_for(loaded)
    loaded.host.handle(op_event("probe", "set", key="after", value="trap"), 1, calls)
    assert {"after": b'"trap"'} == calls.effects.writes


class BrokenState(EmptyState):
    def get(self, module: str, key: str) -> bytes | None:
        raise RuntimeError("disk on fire")


def test_host_function_exception_reaches_the_guest_as_internal_host_error(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, call_path: str
) -> None:
    """Not a crash and not a trap: the guest sees host-error{internal} and the host goes on."""
    loaded = load_probe(tmp_path, probe_wasm, runtime, {})
    assert (call_path == "fast") == loaded.host.call_path.compiled  # type: ignore[attr-defined]
    loaded.host.init(calls_for(loaded))
    effects = EventEffects("probe", BrokenState(), loaded.grants.limits.state_bytes)
    broken = HostCalls(loaded.grants, effects, {}, None, lambda *_: None)
    with pytest.raises(ModuleFailedError) as failed:
        loaded.host.handle(op_event("probe", "count"), 1, broken)
    assert "internal: RuntimeError: disk on fire" in failed.value.reason
    assert not isinstance(failed.value, LimitExceededError)
    calls = calls_for(loaded)
    loaded.host.handle(op_event("probe", "set", key="after", value="error"), 1, calls)
    assert {"after": b'"error"'} == calls.effects.writes
