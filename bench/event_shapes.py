"""How the shape of ``handle``'s event argument sets a Python guest's per-event cost.

Every guest makes the same two store calls per event (get, then set) and is
called the same way: wasmtime's C API through cove's fast-path machinery
(``CallPath.func`` for the export, ``CallPath.host_func`` for the imports, the C
extension when built), dict-backed imports, no capability gate, no SDK.
Only the event's shape differs (bench/assets/shapes/wit/shapes.wit):

  floor          ``handle(event: string)``, imports ``get -> option<string>`` /
                 ``set(string, string)``: the least a Python guest can cost
  0.1 variant    cove:host@0.1's ``handle(meta: event-meta, event: event)``
                 (bench/assets/two_calls_raw_0_1), cove's store imports
  compact        ``handle(event: list<u8>)``: the event encoded by the host
                 (``_event_bytes.encode_event``, timed per event) and not read
  compact, read  the same, the guest decoding every field
  flat record    ``handle(event: flat-event)``: one record of seven fields
  getter         ``handle(event: u32)`` and a ``field(event, index)`` import
                 (what a resource with getters costs: each field is a call)
  getter, read 2 the same, reading two fields
  text+<store>   ``handle(event: string)`` (the JSON array of ``text``) with text
                 store values, by how errors cross: ``result`` (a missing key is
                 not-found, raised in the guest), ``result<option<string>>`` (a
                 missing key is none), or ``option<host-error>`` beside the value
  0.3: ...       cove:host@0.3 as chosen: the event as ``_event_text`` writes it
                 (timed per event), the error-option store (get-text/set-text's shapes)
  compact+option the compact bytes event with the ``result<option<string>>``
                 store: the event's share against ``text+option``
The candidates with "compact"/"flat"/"getter" use cove's own store imports
(``result<list<u8>, host-error>``), so they differ from "0.1 variant" only in
the event, and from "floor" in the event and the imports.

Times are this thread's CPU time per event (wasm runs on it), the median of
5 interleaved rounds. Run: .venv/bin/python bench/event_shapes.py [--events N]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import wasmtime
from _common import BENCH, CACHE, bench_guest, median, per_call_us, print_table
from wasmtime.component import Linker

from cove._build._python_guest import componentize_py
from cove._build._world import HOST_WIT_0_1
from cove._events import Custom, Event
from cove._hosts import _fast_call as fc
from cove._hosts import _fast_host as fh
from cove._hosts._call_path import CallPath
from cove._hosts._event_bytes import encode_event
from cove._hosts._event_text import encode_event_text
from cove._hosts._wasm_runtime import WasmRuntime
from cove._hosts._wit_shapes import import_signatures

SHAPES = BENCH / "assets" / "shapes"
S: Any = ("string",)
B: Any = ("bytes",)
STORE_GET = ([S], ("result", B, fh.HOST_ERROR))
STORE_SET = ([S, B], ("result", None, fh.HOST_ERROR))
FLAT: Any = (
    "record",
    [("kind", ("u8",)), ("id", S), ("accepted-at-ms", ("u64",)), ("attempt", ("u32",)),
     ("name", S), ("source", S), ("payload", S)],
)  # fmt: skip
PATH = CallPath.named("fast")
PAYLOAD = '{"amount": 12, "to": "0x5e0b..."}'


def build_shape(world: str) -> bytes:
    """Build bench/assets/shapes/<world>_app.py against its world (cached by inputs)."""
    digest = hashlib.sha256(importlib.metadata.version("componentize-py").encode())
    for path in sorted(SHAPES.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(world.encode())
    target = CACHE / "builds" / f"shape-{world}-{digest.hexdigest()[:16]}.wasm"
    if not target.exists():
        print(f"building the {world} guest with componentize-py")
        target.parent.mkdir(parents=True, exist_ok=True)
        work = target.with_suffix(".work")
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(
            [componentize_py(), "-d", str(SHAPES / "wit"), "-w", world, "componentize",
             f"{world.replace('-', '_')}_app", "-p", str(SHAPES), "-o", str(work)],
            check=True, capture_output=True,
        )  # fmt: skip
        work.rename(target)
    return target.read_bytes()


def _unused(*_: Any) -> Any:
    raise RuntimeError("not called by the bench guests")


class _Parked:
    def __call__(self, exc: BaseException) -> None:
        raise RuntimeError(f"a bench host function failed: {exc!r}")


def caller(
    runtime: WasmRuntime,
    wasm: bytes,
    imports: dict[str, dict[str, tuple[list[Any], Any, Callable[..., Any]]]],
    params: list[Any],
    args: Callable[[], tuple[Any, ...]],
) -> Callable[[], None]:
    """``handle`` of ``wasm`` called with ``args()`` per event, ``imports`` as HostFuncs."""
    component = runtime.load("shape", wasm)
    park = _Parked()
    funcs = {
        iface: {
            name: PATH.host_func(p, r, imports.get(iface, {}).get(name, (0, 0, _unused))[2], park,
                              lambda exc: None)
            for name, (p, r) in names.items()
        }
        for iface, names in import_signatures(component, runtime.engine, ("cove:", "bench:")).items()
    }  # fmt: skip
    linker = Linker(runtime.engine)
    linker.add_wasip2()
    with linker.root() as root:
        for iface, names in funcs.items():
            with root.add_instance(iface) as inst:
                for name, func in names.items():
                    fc.add_func(inst, name, func)
    store = wasmtime.Store(runtime.engine)
    store.set_wasi(wasmtime.WasiConfig())
    store.set_fuel(10**15)
    store.set_epoch_deadline(10**12)
    instance = linker.instantiate(store, component)
    handle = instance.get_func(store, "handle")
    assert handle is not None
    call = PATH.func(store, handle, params)

    def one() -> None:
        assert call(*args()) is None

    one.keep = (funcs, linker, store, instance, component)  # type: ignore[attr-defined]
    return one


def cove_store(data: dict[str, bytes]) -> dict[str, tuple[list[Any], Any, Callable[..., Any]]]:
    def get(key: str) -> Any:
        value = data.get(key)
        return (True, value) if value is not None else (False, ("not-found", "no key"))

    def set_(key: str, value: bytes) -> Any:
        data[key] = value
        return fc.OK_UNIT

    return {"get": (*STORE_GET, get), "set": (*STORE_SET, set_)}


def text_stores(data: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The text-value store candidates over one dict, keyed by their WIT interface."""
    error = fh.HOST_ERROR
    unit = ("result", None, error)
    missing = ("not-found", "no key")

    def get(key: str) -> Any:
        value = data.get(key)
        return (True, value) if value is not None else (False, missing)

    def set_(key: str, value: str) -> Any:
        data[key] = value
        return fc.OK_UNIT

    def put(key: str, value: str) -> None:
        data[key] = value

    return {
        "bench:shapes/text-store": {
            "get": ([S], ("result", S, error), get), "set": ([S, S], unit, set_),
        },
        "bench:shapes/option-store": {
            "get": ([S], ("result", ("option", S), error), lambda key: (True, data.get(key))),
            "set": ([S, S], unit, set_),
        },
        "bench:shapes/error-option-store": {
            "get": ([S], ("tuple", [("option", S), ("option", error)]),
                    lambda key: (data.get(key), None)),
            "set": ([S, S], ("option", error), put),
        },
    }  # fmt: skip


def floor_caller(runtime: WasmRuntime) -> Callable[[], None]:
    """The floor guest (a string event, string imports), called as the others are."""
    text: dict[str, str] = {}
    imports = {"get": ([S], ("option", S), text.get), "set": ([S, S], None, text.__setitem__)}
    return caller(
        runtime,
        build_shape("floor"),
        {"bench:shapes/floor-store": imports},
        [S],
        lambda: (PAYLOAD,),
    )


def callers(runtime: WasmRuntime) -> dict[str, Callable[[], None]]:
    event = Event(Custom("bench.tick", "", PAYLOAD))
    store01 = "cove:host/store@0.1.0"
    floor = floor_caller(runtime)
    _, raw_wasm_0_1 = bench_guest("two_calls_raw_0_1", HOST_WIT_0_1.read_text())
    compact_wasm = build_shape("compact")
    text_wasm = build_shape("text")
    made = {
        "floor": floor,
        "0.1 variant": caller(
            runtime, raw_wasm_0_1, {store01: cove_store({})}, fh.HANDLE_PARAMS_0_1,
            lambda: fh.handle_args(event, 1),
        ),
        "compact": caller(
            runtime, compact_wasm, {store01: cove_store({})}, [B],
            lambda: (encode_event(event, 1),),
        ),
        "compact, read": caller(
            runtime, compact_wasm, {store01: cove_store({})}, [B],
            lambda: (encode_event(event, 2),),
        ),
        "text": caller(
            runtime, text_wasm, {store01: cove_store({})}, [S], lambda: (_text(event, 1),),
        ),
        "text, read": caller(
            runtime, text_wasm, {store01: cove_store({})}, [S], lambda: (_text(event, 2),),
        ),
        "flat record": caller(
            runtime, build_shape("flat"), {store01: cove_store({})}, [FLAT],
            lambda: ((5, event.id, event.accepted_at_ms, 1, "bench.tick", "", PAYLOAD),),
        ),
    }  # fmt: skip
    for world, iface in (
        ("text-result", "text-store"),
        ("text-option", "option-store"),
        ("text-error-option", "error-option-store"),
    ):
        made[f"text+{iface}"] = caller(
            runtime,
            build_shape(world),
            text_stores({}),
            [S],
            lambda: (_text(event, 1),),
        )
    # cove:host@0.3 as chosen: the event as _event_text writes it, the store's error beside
    # the value (the error-option store has get-text/set-text's shapes)
    made["0.3: text event + error-option-store"] = caller(
        runtime, build_shape("text-error-option"), text_stores({}), [S],
        lambda: (encode_event_text(event, 1),),
    )  # fmt: skip
    made["compact+option-store"] = caller(
        runtime,
        build_shape("compact-option"),
        text_stores({}),
        [B],
        lambda: (encode_event(event, 1),),
    )
    getter_wasm = build_shape("getter")
    fields = {"bench:shapes/event-fields": {"field": ([("u64",), ("u64",)], S, _field(event))}}
    for name, handle in (("getter", 1), ("getter, read 2", 2)):
        made[name] = caller(
            runtime,
            getter_wasm,
            {store01: cove_store({}), **fields},
            [("u64",)],
            lambda handle=handle: (handle,),
        )
    return made


def _text(event: Event, attempt: int) -> str:
    """The event as a JSON array: kind code, attempt, accepted-at-ms, id, fields."""
    p = event.payload
    assert isinstance(p, Custom)
    return json.dumps([5, attempt, event.accepted_at_ms, event.id, p.name, p.source, p.payload])


def _field(event: Event) -> Callable[[int, int], str]:
    payload = event.payload
    assert isinstance(payload, Custom)
    values = (payload.name, payload.payload)
    return lambda _event, index: values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per timing round")
    args = parser.parse_args()
    runtime = WasmRuntime(CACHE / "compiled")
    made = callers(runtime)
    samples: dict[str, list[float]] = {name: [] for name in made}
    for _ in range(5):
        for name, fn in made.items():
            samples[name] += per_call_us(fn, args.events, rounds=1, clock=time.thread_time)
    us = {name: median(s) for name, s in samples.items()}
    floor = us["floor"]
    print_table(
        f"Per-event CPU µs, Python guest making 2 store calls, by event shape ({fc.implementation()})",
        [(name, f"{v:.1f}", f"{v / floor:.2f}") for name, v in us.items()],
        ("event shape", "µs/event", "x floor"),
    )
    runtime.close()


if __name__ == "__main__":
    main()
