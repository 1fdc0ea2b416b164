"""The fast path does not leak: a million events through it leave RSS flat.

RSS is read after a warm-up (arenas, caches and allocator pools at their
working size) and again at the end; any per-event leak of a C value (an
event field, a result string, a host-call result) shows up as megabytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cove import Custom, Event, load_config, load_manifest
from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._engine._loader import LoadedModule, build_host
from cove._hosts._call_path import CallPath
from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.fakes import FakeStateReader
from tests.helpers.modules import CACHE, write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module
from tests.helpers.wat import wat_component

pytestmark = pytest.mark.slow


def _no_log(*_: object) -> None:
    pass


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fast_host(tmp_path: Path, module: Path, path: CallPath) -> LoadedModule:
    name = "fast" if path.compiled else "ctypes"
    config = load_config(
        write_engine_config(tmp_path / "engine.toml", [module], f'call_path = "{name}"\n')
    )
    runtime = WasmRuntime(CACHE / "compiled")
    loaded = build_host(load_manifest(module), config, runtime, lambda *_: None)
    assert path.compiled == getattr(loaded.host, "call_path").compiled  # noqa: B009
    return loaded


def test_a_million_wat_events_leave_rss_flat(tmp_path: Path, fast_impl: CallPath) -> None:
    module = write_manifest(
        tmp_path / "wat", "wat", component=wat_component("hostile"),
        subscriptions=[{"kind": "custom", "name": "wat.*"}],
    )  # fmt: skip
    loaded = fast_host(tmp_path, module, fast_impl)
    state = FakeStateReader({"wat": {}})
    limits = loaded.grants.limits

    def calls() -> HostCalls:
        return HostCalls(
            loaded.grants, EventEffects("wat", state, limits.state_bytes), {}, None, _no_log
        )

    loaded.host.init(calls())
    ok = Event(Custom("wat.ok", "", json.dumps({"pad": "x" * 200})))
    gate = calls()  # the per-event gate is not what this test measures
    for _ in range(50_000):
        loaded.host.handle(ok, 1, gate)
        gate.calls = 0
    before = rss_kib()
    for i in range(1_000_000):
        loaded.host.handle(ok, i, gate)
        gate.calls = 0
    grown = rss_kib() - before
    assert grown < 4096, f"RSS grew by {grown} KiB over 10^6 events"


def test_python_guest_host_calls_leave_rss_flat(
    tmp_path: Path, probe_wasm: Path, fast_impl: CallPath
) -> None:
    """Host functions on the fast path: args read, results cloned into Rust, all freed."""
    loaded = fast_host(tmp_path, probe_module(tmp_path, probe_wasm, "probe"), fast_impl)
    state = FakeStateReader({"probe": {}})
    limits = loaded.grants.limits
    config = {"threshold": 7, "tags": ["a", 1, True, 0.5]}

    def one(event: Event) -> None:
        effects = EventEffects("probe", state, limits.state_bytes)
        loaded.host.handle(event, 1, HostCalls(loaded.grants, effects, config, None, _no_log))
        state.state["probe"].update({k: v for k, v in effects.writes.items() if v is not None})

    events = [
        op_event("probe", "count"),
        op_event("probe", "config"),
        op_event("probe", "attempt"),
    ]
    loaded.host.init(
        HostCalls(loaded.grants, EventEffects("probe", state, 1 << 30), config, None, _no_log)
    )
    for i in range(3_000):
        one(events[i % 3])
    before = rss_kib()
    for i in range(15_000):
        one(events[i % 3])
    grown = rss_kib() - before
    assert grown < 4096, f"RSS grew by {grown} KiB over 15000 events"
