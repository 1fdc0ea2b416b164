"""The wasm call path (C extension, ctypes) against a bare C-API call and the floor, in one run.

Figures for the same compiled Python guest making 2 store calls per event
(bench/assets/two_calls):
  bare wrapper   wasmtime-py's component API, dict-backed host functions (the
                 path cove had besides the C API until issue 17; cove's own
                 wrapper path cost more than this bare call)
  bare ctypes    the C API straight from ctypes: event written once, two
                 hand-written callbacks, no engine, no capability gate
  cove fast      WasmModuleHost(call_path="fast"): event encoding, the
                 capability gate, the write overlay, fuel/deadline reset; with
                 the C extension (_fast_ext) when it is built
  cove fast (ctypes)  the same on the ctypes implementation (call_path="ctypes")
  cove fast on Winch's code  cove fast on code compiled by Winch (wasmtime's baseline
                 compiler), what a module runs on a cold cache until Cranelift's
                 background compile is in (every other row: Cranelift's code)
  fast call only the same host's handle function called straight (event
                 writing, host-call dispatch, the gate and the overlay), without
                 the per-call wrapper around it (limits reset, one-call-at-a-time
                 guard, stats, output flush) or a fresh gate per event
  no SDK         bare ctypes and cove fast on bench/assets/two_calls_raw: the
                 same two calls on componentize-py's bindings without the SDK's
                 dispatch
  guest alone    the 0.3 guests (two_calls, two_calls_raw) called as the floor is:
                 dict-backed store imports, no gate, no overlay, no per-call wrapper
  floor          bench/event_shapes.py's floor guest: a string event, string imports
                 (get -> option<string>, set), no SDK: the least a Python guest costs
  per host call  (n=22 gets - n=2 gets) / 20 on bench/assets/n_calls, per path
  --against REV  adds cove fast as of a git revision (its src/cove imported as
                 a package of its own), timed in the same rounds: a before/after
                 that a shared machine's drift between runs cannot blur
  --sdk-against REV  adds bare ctypes and cove fast on the same guest built with the SDK
                 as of a git revision (the SDK's dispatch before/after, same rounds)
                 Both need a revision on cove:host@0.3 (66f619c or later): the
                 bench guests are 0.3 components, which an older engine refuses
                 and an older SDK cannot decode
Times are this thread's CPU time per event (wasm runs on the calling thread).
Targets (issue 10): cove fast <= 1.5x bare ctypes. Issue 17: cove fast <= 20 µs,
printed next to the floor.

Run: .venv/bin/python bench/fast_path.py [--events N] [--json] [--against REV] [--sdk-against REV]
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import importlib.util
import io
import json
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime
from _common import bench_guest, median, per_call_us, print_table
from event_shapes import caller, floor_caller
from setuptools import Distribution, Extension
from wasm_call_overhead import DictState, raw_caller
from wasmtime.component import Linker

from cove._build._world import HOST_WIT_0_2
from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._config import EngineConfig
from cove._events import Custom, Event
from cove._hosts import _fast_call as fc
from cove._hosts import _fast_host as fh
from cove._hosts import _fast_values as fv
from cove._hosts import _shared_linker
from cove._hosts._event_bytes import encode_event
from cove._hosts._event_text import encode_event_text
from cove._hosts._wasm_contract import HOST_VERSION_TEXT, check_component
from cove._hosts._wasm_host import CallPathName, WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime

_NAME = struct.Struct("<QQ")
_HOST_CALL_ROWS = {
    "bare": "bare ctypes",
    "fast": "cove fast",
    "ctypes": "cove fast (ctypes)",
}


def bare_ctypes_caller(
    runtime: WasmRuntime, wasm: bytes, payload: str = "{}", version: str = HOST_VERSION_TEXT
) -> Any:
    """The floor: the same per-event C API steps with nothing of cove around them.

    ``version``: the contract the guest was built against: 0.3's text calls
    (``get-text``, ``set-text``, a string event) or 0.2's bytes calls."""
    component = runtime.load("bare", wasm)
    every: frozenset[Any] = frozenset({"store", "logging", "config"})
    interfaces = check_component(runtime.engine, "bare", component, every).interfaces
    data: dict[str, Any] = {}
    text = version == HOST_VERSION_TEXT
    get_result = fv.writer(fh.GET_TEXT if text else ("result", ("bytes",), fh.HOST_ERROR))
    results_arena, unit_arena = fv.Arena(), fv.Arena()
    if text:
        unit_arena.encode(fv.writer(("option", fh.HOST_ERROR)), None)
    else:
        unit_arena.encode(fv.writer(("result", None, fh.HOST_ERROR)), (True, None))

    def string(raw: bytes, at: int) -> str:
        size, pointer = _NAME.unpack_from(raw, at + fv.PAYLOAD)
        return ctypes.string_at(pointer, size).decode()

    def get(_d: Any, _c: Any, _t: Any, args: int, _n: int, results: int, _r: int) -> int:
        value = data.get(string(ctypes.string_at(args, fv.VAL_SIZE), 0))
        if text:
            found: Any = (value, None)
        else:
            found = (True, value) if value is not None else (False, ("not-found", "no key"))
        fc._val_clone(results_arena.encode(get_result, found), results)
        return 0

    def set_(_d: Any, _c: Any, _t: Any, args: int, _n: int, results: int, _r: int) -> int:
        raw = ctypes.string_at(args, 2 * fv.VAL_SIZE)
        if text:
            data[string(raw, 0)] = string(raw, fv.VAL_SIZE)
        else:
            size, pointer = _NAME.unpack_from(raw, fv.VAL_SIZE + fv.PAYLOAD)
            data[string(raw, 0)] = ctypes.string_at(pointer, size * fv.VAL_SIZE)[
                fv.PAYLOAD :: fv.VAL_SIZE
            ]
        fc._val_clone(unit_arena.base, results)  # the closure keeps the arena alive
        return 0

    def unused(*_: Any) -> int:
        return int(fc._error_new(b"not in this bench") or 0)

    callbacks = {
        "get-text" if text else "get": fc.CALLBACK(get),
        "set-text" if text else "set": fc.CALLBACK(set_),
    }
    stub = fc.CALLBACK(unused)
    names = {
        "store": ["get", "get-many", "set", "set-many", "delete", "list-keys"]
        + (["get-text", "set-text"] if text else []),
        "logging": ["log"],
        "config": ["get", "keys"],
    }
    linker = Linker(runtime.engine)
    linker.add_wasip2()
    with linker.root() as root:
        for iface in sorted(interfaces & names.keys()):
            with root.add_instance(f"cove:host/{iface}@{version}") as inst:
                for name in names[iface]:
                    cb = callbacks.get(name, stub) if iface == "store" else stub
                    raw_name = name.encode()
                    err = fc._add_func(
                        fc._address(inst.ptr()), raw_name, len(raw_name), cb, None, None
                    )
                    assert not err
    store = wasmtime.Store(runtime.engine)
    store.set_wasi(wasmtime.WasiConfig())
    store.set_fuel(10**12)
    store.set_epoch_deadline(10**9)
    instance = linker.instantiate(store, component)
    context = fc._address(store._context())
    result = (ctypes.c_char * fv.VAL_SIZE)()
    result_addr = ctypes.addressof(result)
    init, handle = instance.get_func(store, "init"), instance.get_func(store, "handle")
    assert init is not None and handle is not None
    assert not fc._func_call(ctypes.addressof(init._func), context, 0, 0, result_addr, 1)
    fc._val_delete(result_addr)
    event = Event(Custom("bench.tick", "", payload))
    args_arena = fv.Arena()
    (write,) = [fv.writer(t) for t in (fh.HANDLE_PARAMS if text else fh.HANDLE_PARAMS_0_2)]
    # once: a bare call has a fixed event
    args = args_arena.encode(write, encode_event_text(event, 1) if text else encode_event(event, 1))
    handle_addr = ctypes.addressof(handle._func)

    def one() -> None:
        err = fc._func_call(handle_addr, context, args, 1, result_addr, 1)
        assert not err and result[8] == b"\x01"  # is_ok
        fc._val_delete(result_addr)
        result[0] = b"\x00"

    # keep everything the callbacks touch alive with the closure
    one.keep = (  # type: ignore[attr-defined]
        callbacks, stub, linker, store, instance, component, init, handle, args_arena,
    )  # fmt: skip
    return one


def cove_caller(
    runtime: WasmRuntime,
    manifest: Any,
    wasm: bytes,
    path: CallPathName,
    payload: str = "{}",
    package: str = "cove",
) -> Callable[[], None]:
    """``package``: the cove to time, this tree's or an older one (``package_at``),
    with a ``runtime`` of that package's own."""

    def module(name: str) -> Any:
        return importlib.import_module(f"{package}.{name}")

    config, grants_of = module("_config").EngineConfig(), module("_capabilities._grants")
    grants = grants_of.resolve_grants(manifest, config)
    wasm_host = module("_hosts._wasm_host")
    host = wasm_host.WasmModuleHost(
        runtime, manifest, grants, wasm, lambda *a: None, call_path=path
    )
    state = DictState()
    new_calls = module("_capabilities._calls").HostCalls
    new_effects = module("_capabilities._effects").EventEffects
    events = module("_events")

    def calls(effects: EventEffects) -> HostCalls:
        made: HostCalls = new_calls(grants, effects, {}, None, lambda *a: None)
        return made

    host.init(calls(new_effects(manifest.name, state, grants.limits.state_bytes)))
    event = events.Event(events.Custom("bench.tick", "", payload))

    def one() -> None:
        effects = new_effects(manifest.name, state, grants.limits.state_bytes)
        host.handle(event, 1, calls(effects))
        state.data.update({k: v for k, v in effects.writes.items() if v is not None})

    return one


def package_at(revision: str, into: Path) -> str:
    """``src/cove`` as of a git revision, importable as a package of its own (a same-run
    before/after: on this shared machine separate runs differ more than one change does)."""
    name = "cove_at_" + "".join(c if c.isalnum() else "_" for c in revision)
    archive = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parents[1]), "archive", revision, "src/cove"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into / "tree", filter="data")
    (into / "tree" / "src" / "cove").rename(into / name)
    source = into / name / "_hosts" / "_fast_ext.c"
    if source.exists():  # a tree with the C extension: build it as `pip install` would
        build = Distribution(
            {"ext_modules": [Extension(f"{name}._hosts._fast_ext", [str(source)])]}
        )
        command = build.get_command_obj("build_ext")
        command.build_lib, command.build_temp = str(into), str(into / "build")  # type: ignore[attr-defined]
        command.ensure_finalized()
        command.run()
    sys.path.insert(0, str(into))
    return name


def sdk_at(revision: str, into: Path) -> Path:
    """``sdk/python`` as of a git revision: the directory holding its ``cove_sdk``."""
    archive = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parents[1]), "archive", revision, "sdk/python"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "sdk" / "python"


def call_only_caller(runtime: WasmRuntime, manifest: Any, wasm: bytes) -> Callable[[], None]:
    """Where cove fast's time goes: its handle function without ``_call`` around it."""
    grants = resolve_grants(manifest, EngineConfig())
    host = WasmModuleHost(runtime, manifest, grants, wasm, lambda *a: None, call_path="fast")
    state = DictState()
    effects = EventEffects(manifest.name, state, grants.limits.state_bytes)
    calls = HostCalls(grants, effects, {}, None, lambda *a: None)
    host.init(calls)
    event = Event(Custom("bench.tick", "", "{}"))
    store, handle = host._store, host._handle_fn
    assert store is not None and handle is not None
    # the shared linker's host functions act for the thread's current host (as ``_call``
    # sets it); the other callers' enter/leave give this one back
    _shared_linker.enter(host)

    def one() -> None:
        store.set_fuel(grants.limits.fuel)
        store.set_epoch_deadline(10**6)
        host._calls = calls
        assert handle(encode_event_text(event, 1)) is None
        calls.records.clear()
        calls.calls = 0

    return one


def gate_free_caller(runtime: WasmRuntime, wasm: bytes) -> Callable[[], None]:
    """A 0.3 bench guest called as event_shapes.py calls the floor: its store imports
    dict-backed (the C extension's host functions, no gate, no overlay), the event
    encoded per call. What is left of cove fast over this is cove's host."""
    data: dict[str, str] = {}
    store: dict[str, tuple[list[Any], Any, Callable[..., Any]]] = {
        "get-text": ([fh.S], fh.GET_TEXT, lambda key: (data.get(key), None)),
        "set-text": ([fh.S, fh.S], ("option", fh.HOST_ERROR), data.__setitem__),
    }
    event = Event(Custom("bench.tick", "", "{}"))
    return caller(
        runtime, wasm, {f"cove:host/store@{HOST_VERSION_TEXT}": store}, fh.HANDLE_PARAMS,
        lambda: (encode_event_text(event, 1),),
    )  # fmt: skip


def interleaved(callers: dict[str, Callable[[], object]], events: int) -> dict[str, float]:
    """Median CPU µs/event per caller (this thread's CPU time: the guest runs on it
    too, and other jobs on a shared machine disturb it far less than wall time);
    rounds alternate so machine drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in callers}
    for _ in range(5):
        for name, fn in callers.items():
            samples[name] += per_call_us(fn, events, rounds=1, clock=time.thread_time)
    return {name: median(s) for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per timing round")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also time cove fast as of this git revision, in the same run (a before/after)",
    )
    parser.add_argument(
        "--sdk-against",
        metavar="REV",
        help="also time the guest built with the SDK as of this git revision, in the same run",
    )
    args = parser.parse_args()
    manifest, wasm = bench_guest("two_calls")
    n_manifest, n_wasm = bench_guest("n_calls")
    raw_manifest, raw_wasm = bench_guest("two_calls_raw")
    old_manifest_0_2, old_wasm_0_2 = bench_guest("two_calls_raw_0_2", HOST_WIT_0_2.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        runtime = WasmRuntime(Path(tmp) / "cache", compiler="cranelift")
        winch = WasmRuntime(Path(tmp) / "cache-winch", compiler="winch")
        callers = {
            "bare wrapper": raw_caller(runtime, wasm),
            "bare ctypes": bare_ctypes_caller(runtime, wasm),
            "fast call only": call_only_caller(runtime, manifest, wasm),
            "cove fast": cove_caller(runtime, manifest, wasm, "fast"),
            "cove fast (ctypes)": cove_caller(runtime, manifest, wasm, "ctypes"),
            "cove fast on Winch's code": cove_caller(winch, manifest, wasm, "fast"),
            "bare ctypes, no SDK": bare_ctypes_caller(runtime, raw_wasm),
            "cove fast, no SDK": cove_caller(runtime, raw_manifest, raw_wasm, "fast"),
            "bare ctypes, 0.2 guest": bare_ctypes_caller(runtime, old_wasm_0_2, version="0.2.0"),
            "cove fast, 0.2 guest": cove_caller(runtime, old_manifest_0_2, old_wasm_0_2, "fast"),
            "floor": floor_caller(runtime),
            "guest alone, no SDK": gate_free_caller(runtime, raw_wasm),
            "guest alone": gate_free_caller(runtime, wasm),
        }
        if args.sdk_against:
            old_manifest, old_wasm = bench_guest(
                "two_calls", sdk=sdk_at(args.sdk_against, Path(tmp) / "sdk")
            )
            at = f"SDK at {args.sdk_against}"
            callers[f"bare ctypes, {at}"] = bare_ctypes_caller(runtime, old_wasm)
            callers[f"cove fast, {at}"] = cove_caller(runtime, old_manifest, old_wasm, "fast")
        if args.against:
            package = package_at(args.against, Path(tmp))
            runtimes = importlib.import_module(f"{package}._hosts._wasm_runtime")
            callers[f"cove fast at {args.against}"] = cove_caller(
                runtimes.WasmRuntime(Path(tmp) / "cache-against"), manifest, wasm, "fast",
                package=package,
            )  # fmt: skip
            if importlib.util.find_spec(f"{package}._hosts._wrapper_host") is not None:
                # a revision that still had the wrapper path: the figure it was removed on
                callers[f"cove wrapper at {args.against}"] = cove_caller(
                    runtimes.WasmRuntime(Path(tmp) / "cache-against"), manifest, wasm,
                    "wrapper",  # type: ignore[arg-type]
                    package=package,
                )  # fmt: skip
        us = interleaved(callers, args.events)
        per_call = interleaved(
            {
                f"{path} n={n}": cove_caller(runtime, n_manifest, n_wasm, path, str(n))
                for path in ("fast", "ctypes")
                for n in (2, 22)
            },
            max(args.events // 4, 100),
        )
        per_call.update(
            interleaved(
                {f"bare n={n}": bare_ctypes_caller(runtime, n_wasm, str(n)) for n in (2, 22)},
                max(args.events // 4, 100),
            )
        )
        runtime.close()
        winch.close()
    host_call = {
        path: (per_call[f"{path} n=22"] - per_call[f"{path} n=2"]) / 20
        for path in ("bare", "fast", "ctypes")
    }
    bare = us["bare ctypes"]
    rows = [
        ("bare wrapper (wasmtime-py)", us["bare wrapper"], ""),
        ("bare ctypes (C API)", bare, ""),
        ("fast call only", us["fast call only"], "cove fast without its per-call wrapper"),
        ("cove fast", us["cove fast"], f"target <= 1.50 of bare ctypes ({fc.implementation()})"),
        ("cove fast (ctypes)", us["cove fast (ctypes)"], "the fallback without the C extension"),
        (
            "cove fast on Winch's code",
            us["cove fast on Winch's code"],
            "what [wasm] compiler = tiered runs until Cranelift's code is in",
        ),
    ]
    if args.against:
        rows += [(name, v, "") for name, v in us.items() if name.endswith(f" at {args.against}")]
    if args.sdk_against:
        rows += [(name, v, "") for name, v in us.items() if name.endswith(args.sdk_against)]
    print_table(
        "Per-event CPU cost, Python guest making 2 store calls (median of 5 rounds)",
        [(name, f"{v:.1f}", f"{v / bare:.2f}", note) for name, v, note in rows],
        ("path", "µs/event", "x bare ctypes", ""),
    )
    raw = us["bare ctypes, no SDK"]
    print_table(
        "The same two calls without the SDK (bench/assets/two_calls_raw; 0.2 guest:"
        " two_calls_raw_0_2, built against cove:host@0.2.0)",
        [
            (name, f"{us[name]:.1f}", f"{us[name] / raw:.2f}")
            for name in (
                "bare ctypes, no SDK",
                "cove fast, no SDK",
                "bare ctypes, 0.2 guest",
                "cove fast, 0.2 guest",
            )
        ],
        ("path", "µs/event", "x bare ctypes"),
    )
    floor = us["floor"]
    print_table(
        "Against the floor (bench/event_shapes.py: a string event, string imports, no SDK)",
        [
            (name, f"{us[name]:.1f}", f"{us[name] / floor:.2f}")
            for name in (
                "floor",
                "guest alone, no SDK",
                "guest alone",
                "bare ctypes, no SDK",
                "cove fast, no SDK",
                "cove fast, 0.2 guest",
                "cove fast",
            )
        ],
        ("path", "µs/event", "x floor"),
    )
    print(f"cove fast: {us['cove fast']:.1f} µs/event (target <= 20 µs; the floor {floor:.1f})")
    speedup = us["bare wrapper"] / us["cove fast (ctypes)"]
    print(f"\ncove fast on ctypes vs a bare wasmtime-py call: {speedup:.1f}x faster")
    print_table(
        "Per host call (store.get), (n=22 - n=2) / 20",
        [(_HOST_CALL_ROWS[path], f"{v:.1f}") for path, v in host_call.items()],
        ("path", "µs/call"),
    )
    if args.json:
        print(json.dumps({"us_per_event": us, "fast_speedup": speedup, "host_call_us": host_call}))


if __name__ == "__main__":
    main()
