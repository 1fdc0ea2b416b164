"""Per-event cost of cove's wasm host vs a raw wasmtime-py call of the same component.

Both paths call the same compiled component's ``handle`` with the same event,
and the guest makes the same two store calls. The raw path has the thinnest
possible host functions (a dict); cove's path adds event conversion, the
capability gate (grant check, budget, trajectory record), the event's write
overlay and the fuel/deadline reset. Target (issue 2): cove ≤ 1.3x raw.
Also reports the load time of a cached component (target ≤ 50 ms).

Run: .venv/bin/python bench/wasm_call_overhead.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import wasmtime
from _common import bench_guest, median, per_call_us, print_table
from wasmtime.component import Linker, Record

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._config import EngineConfig
from cove._events import Custom, Event
from cove._hosts._event_text import encode_event_text
from cove._hosts._wasm_contract import HOST_VERSION_TEXT
from cove._hosts._wasm_host import WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime


class DictState:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, module: str, key: str) -> bytes | None:
        return self.data.get(key)

    def list_keys(self, module: str, prefix: str) -> list[str]:
        return sorted(k for k in self.data if k.startswith(prefix))

    def state_bytes(self, module: str) -> int:
        return 0


def raw_caller(runtime: WasmRuntime, wasm: bytes) -> Any:
    """The baseline: wasmtime-py's component API with dict-backed host functions."""
    component = runtime.load("raw", wasm)
    data: dict[str, Any] = {}
    not_found = Record()
    setattr(not_found, "kind", "not-found")  # noqa: B010
    setattr(not_found, "message", "no key")  # noqa: B010

    def get(_s: Any, key: str) -> Any:
        return data.get(key, not_found)

    def set_(_s: Any, key: str, value: bytes) -> None:
        data[key] = value

    linker = Linker(runtime.engine)
    linker.add_wasip2()
    with (
        linker.root() as root,
        root.add_instance(f"cove:host/store@{HOST_VERSION_TEXT}") as store_iface,
    ):
        store_iface.add_func("get", get)
        store_iface.add_func("set", set_)
        # 0.3's text calls (the bench guests use these): the error beside the value.
        store_iface.add_func("get-text", lambda _s, key: (data.get(key), None))
        store_iface.add_func("set-text", lambda _s, key, value: data.__setitem__(key, value))
        # Present but unused by the guest; the component imports the whole interface.
        store_iface.add_func("get-many", lambda _s, keys: [data.get(k) for k in keys])
        store_iface.add_func("set-many", lambda _s, entries: data.update(entries))
        store_iface.add_func("delete", lambda _s, key: data.pop(key, None) and None)
        store_iface.add_func("list-keys", lambda _s, prefix: sorted(data))
    with (
        linker.root() as root,
        root.add_instance(f"cove:host/logging@{HOST_VERSION_TEXT}") as log_iface,
    ):
        log_iface.add_func("log", lambda _s, *a: None)
    with (
        linker.root() as root,
        root.add_instance(f"cove:host/config@{HOST_VERSION_TEXT}") as cfg_iface,
    ):
        cfg_iface.add_func("get", lambda _s, k: None)
        cfg_iface.add_func("keys", lambda _s: [])
    store = wasmtime.Store(runtime.engine)
    store.set_wasi(wasmtime.WasiConfig())
    store.set_fuel(10**12)
    store.set_epoch_deadline(10**9)
    instance = linker.instantiate(store, component)
    instance.get_func(store, "init")(store)
    handle = instance.get_func(store, "handle")
    event = Event(Custom("bench.tick", "", "{}"))
    raw = encode_event_text(event, 1)
    return lambda: handle(store, raw)


def cove_caller(runtime: WasmRuntime, manifest: Any, wasm: bytes) -> Any:
    grants = resolve_grants(manifest, EngineConfig())
    host = WasmModuleHost(runtime, manifest, grants, wasm, lambda *a: None)
    state = DictState()
    config = dict(manifest.config)

    def calls(effects: EventEffects) -> HostCalls:
        return HostCalls(grants, effects, config, None, lambda *a: None)

    host.init(calls(EventEffects("two-calls", state, grants.limits.state_bytes)))
    event = Event(Custom("bench.tick", "", "{}"))

    def one() -> None:
        effects = EventEffects("two-calls", state, grants.limits.state_bytes)
        host.handle(event, 1, calls(effects))
        state.data.update({k: v for k, v in effects.writes.items() if v is not None})

    return one


def cached_load_ms(cache_dir: Path, wasm: bytes, rounds: int = 5) -> tuple[float, float]:
    runtime = WasmRuntime(cache_dir)
    try:
        runtime.load("warm", wasm)  # fills the disk cache
        loads, instantiations = [], []
        for _ in range(rounds):
            fresh = WasmRuntime(cache_dir)  # a new engine: nothing in memory
            start = time.perf_counter()
            component = fresh.load("bench", wasm)
            loads.append((time.perf_counter() - start) * 1e3)
            linker = Linker(fresh.engine)
            linker.add_wasip2()
            linker.define_unknown_imports_as_traps(component)
            store = wasmtime.Store(fresh.engine)
            store.set_wasi(wasmtime.WasiConfig())
            store.set_fuel(10**10)
            store.set_epoch_deadline(10**9)
            start = time.perf_counter()
            linker.instantiate(store, component)
            instantiations.append((time.perf_counter() - start) * 1e3)
            fresh.close()
        return median(loads), median(instantiations)
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per timing round")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    manifest, wasm = bench_guest()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = WasmRuntime(Path(tmp) / "cache")
        raw = raw_caller(runtime, wasm)
        cove = cove_caller(runtime, manifest, wasm)
        # Interleave rounds so drift on a shared machine hits both paths alike.
        raw_s, cove_s = [], []
        for _ in range(5):
            raw_s += per_call_us(raw, args.events, rounds=1)
            cove_s += per_call_us(cove, args.events, rounds=1)
        load_ms, inst_ms = cached_load_ms(Path(tmp) / "cache2", wasm)
        runtime.close()
    raw_us, cove_us = median(raw_s), median(cove_s)
    ratio = cove_us / raw_us
    print_table(
        "Per-event cost, Python guest making 2 store calls (median of 5 rounds)",
        [
            ("raw wasmtime-py call", f"{raw_us:.1f}", "1.00", ""),
            ("cove wasm host", f"{cove_us:.1f}", f"{ratio:.2f}", "target <= 1.30"),
        ],
        ("path", "µs/event", "ratio", ""),
    )
    print_table(
        "Cached component (new engine, artifact on disk)",
        [
            ("load (deserialize)", f"{load_ms:.1f}", "target <= 50"),
            ("instantiate", f"{inst_ms:.1f}", ""),
        ],
        ("step", "ms", ""),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "raw_us": raw_us,
                    "cove_us": cove_us,
                    "ratio": ratio,
                    "load_ms": load_ms,
                    "instantiate_ms": inst_ms,
                }
            )
        )


if __name__ == "__main__":
    main()
