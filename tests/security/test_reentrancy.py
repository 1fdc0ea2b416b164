"""Re-entrancy rules of a wasm module's instance, on both call paths.

One instance runs one call at a time. A call made from inside one of the
instance's own host calls (on the same thread) is refused with
``ModuleReentryError`` and the running call goes on untouched; a call from
another thread waits for the running one to finish. Neither may corrupt the
instance or crash the engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._engine._loader import LoadedModule
from cove._hosts._wasm_runtime import WasmRuntime
from cove._types import EmptyState
from cove.errors import ModuleReentryError
from tests.helpers.security import load_probe, op_event


class HookedState(EmptyState):
    """Empty saved state; ``on_get`` runs inside the first state read (a host call)."""

    def __init__(self, on_get: Callable[[], None]) -> None:
        self.on_get: Callable[[], None] | None = on_get

    def get(self, module: str, key: str) -> bytes | None:
        on_get, self.on_get = self.on_get, None
        if on_get is not None:
            on_get()
        return None


@pytest.fixture
def loaded(tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, call_path: str) -> LoadedModule:
    result = load_probe(tmp_path, probe_wasm, runtime, {})
    assert (call_path == "fast") == result.host.call_path.compiled  # type: ignore[attr-defined]
    return result


def gate(loaded: LoadedModule, state: HookedState) -> tuple[HostCalls, EventEffects]:
    effects = EventEffects("probe", state, loaded.grants.limits.state_bytes)
    return HostCalls(loaded.grants, effects, {}, None, lambda *_: None), effects


def test_a_host_call_that_calls_back_into_its_module_is_refused(loaded: LoadedModule) -> None:
    host = loaded.host
    refusals: list[Exception] = []

    def reenter() -> None:
        for call in (
            lambda: host.handle(op_event("probe", "count"), 1, gate(loaded, quiet)[0]),
            lambda: host.init(gate(loaded, quiet)[0]),
        ):
            try:
                call()
            except ModuleReentryError as exc:
                refusals.append(exc)

    quiet = HookedState(lambda: None)
    host.init(gate(loaded, quiet)[0])
    calls, effects = gate(loaded, HookedState(reenter))
    host.handle(op_event("probe", "count"), 1, calls)  # the outer call is untouched

    assert [str(e) for e in refusals] == [
        "module 'probe': handle was called while the module is inside a call on this thread "
        "(a host call re-entered it); refused, the running call goes on",
        "module 'probe': init was called while the module is inside a call on this thread "
        "(a host call re-entered it); refused, the running call goes on",
    ]
    assert effects.writes == {"count": b"1"}
    # state.incr: one read, and its one write at the end of the event (set-text records "set")
    assert [r.function for r in calls.records] == ["get", "set"]
    # the instance still works, without a rebuild
    calls, effects = gate(loaded, quiet)
    host.handle(op_event("probe", "count"), 2, calls)
    assert effects.writes == {"count": b"1"}


def test_calls_from_two_threads_take_turns(loaded: LoadedModule) -> None:
    host = loaded.host
    order: list[str] = []
    first_inside_guest, second_waiting = threading.Event(), threading.Event()

    def first_inside() -> None:
        order.append("first: inside its host call")
        first_inside_guest.set()
        assert second_waiting.wait(10)
        time.sleep(0.2)  # give the second thread time to try; it must wait, not enter

    host.init(gate(loaded, HookedState(lambda: None))[0])
    first_calls, first_effects = gate(loaded, HookedState(first_inside))
    second_calls, second_effects = gate(
        loaded, HookedState(lambda: order.append("second: inside its host call"))
    )

    def first() -> None:
        host.handle(op_event("probe", "count"), 1, first_calls)
        order.append("first: done")

    def second() -> None:
        second_waiting.set()
        host.handle(op_event("probe", "count"), 1, second_calls)
        order.append("second: done")

    one = threading.Thread(target=first)
    one.start()
    assert first_inside_guest.wait(30)
    two = threading.Thread(target=second)
    two.start()
    one.join(30)
    two.join(30)

    assert order == [
        "first: inside its host call",
        "first: done",
        "second: inside its host call",
        "second: done",
    ]
    assert first_effects.writes == second_effects.writes == {"count": b"1"}
