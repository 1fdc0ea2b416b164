"""Running a component: one Store per instance, every call bounded by limits.

Design note: host functions are bound once per shared linker
(``_shared_linker``: every module of a component with the same grants) and
find the host whose guest runs on the calling thread, then the current
event's ``HostCalls`` through its ``_calls``. wasmtime-py parks a Python
exception raised in a host function and re-raises it from the guest call, so
host functions convert every ``HostCallError`` to a WIT ``host-error`` value
and only ``LimitExceededError`` (a blown budget) is left to abort the call.
After any trap the instance is unusable ("cannot enter component instance"),
so it is rebuilt lazily before the next call, and init runs again.

Every call into the guest and every host function goes through wasmtime's C
API (``_fast_call``), on the implementation the host is given (``CallPath``:
the C extension, or ctypes where it is not built); wasmtime-py does the
setup only. Tool calls and hooks run on the same Store and instance as
events, so the same limits, grants and guest state apply.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeVar

import structlog
import wasmtime
from wasmtime.component import Linker

from .._capabilities._bounds import MAX_PAYLOAD_BYTES, clip, guest_error, require_size
from .._capabilities._calls import HostCalls
from .._capabilities._grants import Grants
from .._events import Event
from .._manifest import Manifest
from ..errors import (
    CallCancelledError,
    HostCallError,
    LimitExceededError,
    ModuleFailedError,
    ModuleLoadError,
    ToolError,
)
from . import _fast_call, _fast_host, _shared_linker, _wasi_clock
from ._base import CallStats, HookOutcome, ModuleHost
from ._call_path import CallPath
from ._compiler import Strategy
from ._event_bytes import encode_event
from ._event_text import encode_event_text
from ._guest_output import GuestOutput, OutputSink
from ._guest_turn import one_at_a_time, reentry
from ._linear_memory import MemoryWatch
from ._wasm_contract import check_component
from ._wasm_runtime import Progress, Tier, WasmRuntime
from ._wasm_traps import tool_spec, trap_error
from ._wit_shapes import signature

_TOOLS = {"list-tools": _fast_host.LIST_TOOLS, "call-tool": _fast_host.CALL_TOOL}
_HOOKS = {"on-hook": _fast_host.ON_HOOK}
_HANDLES: dict[tuple[int, int, int], tuple[list[Any], Callable[[Event, int], tuple[Any, ...]]]] = {
    (0, 3, 0): (_fast_host.HANDLE_PARAMS, lambda event, n: (encode_event_text(event, n),)),
    (0, 2, 0): (_fast_host.HANDLE_PARAMS_0_2, lambda event, n: (encode_event(event, n),)),
    (0, 1, 0): (_fast_host.HANDLE_PARAMS_0_1, _fast_host.handle_args),
}
"""``handle``'s parameter shapes and its arguments for an event, by contract version."""
CallPathName = Literal["fast", "ctypes"]
"""``fast``: the C extension when it is usable, else ctypes; ``ctypes``: ctypes."""
Invoke = Callable[..., Any]
P = ParamSpec("P")
R = TypeVar("R")

log = structlog.get_logger("cove.wasm")


class WasmModuleHost(ModuleHost):
    def __init__(
        self,
        runtime: WasmRuntime,
        manifest: Manifest,
        grants: Grants,
        wasm: bytes,
        output: OutputSink,
        progress: Progress | None = None,
        call_path: CallPathName | CallPath = "fast",
    ) -> None:
        self.name = manifest.name
        if _fast_call.UNAVAILABLE is not None:
            raise ModuleLoadError(
                self.name,
                f"cannot run wasm modules here: {_fast_call.UNAVAILABLE} (cove calls wasm "
                f"through wasmtime {_fast_call.PINNED_WASMTIME}'s C API on 64-bit little-endian "
                "platforms)",
            )
        if isinstance(call_path, str):
            call_path = CallPath.named(call_path)
        self.call_path = call_path
        if not call_path.compiled and _fast_call.EXT_PROBLEM:
            log.info(
                "wasm fast path on ctypes", module=manifest.name, reason=_fast_call.EXT_PROBLEM
            )
        self._parked: BaseException | None = None
        self.stats = CallStats()
        self._runtime = runtime
        self._grants = grants
        loaded = runtime.load_first(self.name, wasm, progress)
        self._component = loaded.component
        self._tier = loaded.tier
        self._optimized = loaded.optimized
        """Cranelift's compile under way while this runs Winch's code (``tiered``)."""
        report = check_component(
            loaded.tier.engine,
            self.name,
            self._component,
            grants.declared,
            manifest.tools.enabled,
            bool(manifest.hook),
            manifest.migrate.enabled,
        )
        self._deadline_ticks = runtime.deadline_ticks(grants.limits.timeout_ms)
        """Each call's epoch deadline (fixed per module; worked out once, not per call)."""
        self._handle_params, self._handle_args = _HANDLES[report.version]
        """``handle`` in the shape of the contract the component was built against."""
        self._version_text = ".".join(map(str, report.version))
        self._hook_export = report.hook_export
        self._hook_fn: Invoke | None = None
        self._hook_lock = threading.Lock()
        # One call at a time per instance: other threads wait their turn; the
        # thread inside the guest (``_inside``) is refused (see ``_guest_turn``).
        self._turn = threading.RLock()
        self._inside: int | None = None
        self._tool_export = report.tool_export
        self._tool_fns: tuple[Invoke, Invoke] | None = None
        self._migrate_export = report.migrate_export
        self._migrate_fn: Invoke | None = None
        self._clock: _wasi_clock.BoundClock | None = None
        self._raw_store: wasmtime.Store | None = None
        self._cut = False
        """A WASI wait of the running call was cut at its deadline."""
        self._stopping = False
        """``interrupt`` was called: every call ends as ``CallCancelledError``."""
        self._wait_ends_ns = 0
        """When the running call's latest WASI wait ends (``perf_counter_ns``)."""
        self._interfaces = report.interfaces
        self._linker: Linker = self._linker_for(loaded.tier)
        self._calls: HostCalls | None = None
        self._store: _fast_call.Store | None = None
        self._init_fn: Invoke | None = None
        self._handle_fn: Invoke | None = None
        self._output = GuestOutput(self.name, output, "logging" in grants.granted)
        self._memory = MemoryWatch()

    # instance lifecycle -------------------------------------------------
    def _linker_for(self, tier: Tier) -> Linker:
        return tier.linkers.get(
            self._component, self._interfaces, self._version_text, self.call_path,
            self._grants.limits.timeout_ms,
        )  # fmt: skip

    @property
    def compiled_by(self) -> Strategy:
        """The compiler of the code this module runs (``winch`` until a tiered switch)."""
        return self._tier.strategy

    def _at_boundary(self) -> None:
        """Between calls: move to the optimized code once its compile is done, the way a
        hibernated module wakes (the instance goes; the next call instantiates the new
        code and runs init). A failed compile was logged once (``_tiering``)."""
        pending = self._optimized
        if pending is None or not pending.done():
            return
        self._optimized = None
        if pending.exception() is not None:
            return
        self._free_instance()
        self._component = pending.result()
        self._tier = self._runtime.optimized
        self._linker = self._linker_for(self._tier)
        log.info("wasm module on optimized code", module=self.name)

    def _instantiate(self) -> tuple[_fast_call.Store, Invoke, Invoke]:
        self._at_boundary()
        store = wasmtime.Store(self._tier.engine)
        self._raw_store = store
        store.set_limits(memory_size=self._grants.limits.memory_bytes)
        wasi = wasmtime.WasiConfig()
        wasi.stdout_custom = _output_to(self, "stdout")
        wasi.stderr_custom = _output_to(self, "stderr")
        store.set_wasi(wasi)
        store.set_fuel(self._grants.limits.fuel)
        store.set_epoch_deadline(self._runtime.deadline_ticks(self._grants.limits.timeout_ms))
        try:
            self._clock = self._tier.clock.bind(store)
            previous = _shared_linker.enter(self)  # the guest's start code may call the host
            try:
                with self._memory.instantiating():
                    instance = self._linker.instantiate(store, self._component)
            finally:
                _shared_linker.leave(previous)
        except wasmtime.WasmtimeError as exc:
            raise self._failure("instantiate", exc) from None
        init_fn = instance.get_func(store, "init")
        handle_fn = instance.get_func(store, "handle")
        assert init_fn is not None and handle_fn is not None  # checked by the contract
        path = self.call_path
        if self._tool_export is not None:
            list_tools, call_tool = self._exports(instance, store, self._tool_export, _TOOLS)
            self._tool_fns = (list_tools, call_tool)
        if self._hook_export is not None:
            (self._hook_fn,) = self._exports(instance, store, self._hook_export, _HOOKS)
        if self._migrate_export is not None:
            iface = instance.get_export_index(store, self._migrate_export)
            index = instance.get_export_index(store, "migrate", iface)
            assert index is not None  # checked by the contract
            migrate = instance.get_func(store, index)
            assert migrate is not None
            self._migrate_fn = path.func(store, migrate, [_fast_host.S])
        return (
            path.store(store),
            path.func(store, init_fn, []),
            path.func(store, handle_fn, self._handle_params),
        )

    def _exports(
        self,
        instance: Any,
        store: wasmtime.Store,
        export: str,
        wanted: dict[str, _fast_host.Signature],
    ) -> list[Invoke]:
        """Functions of an exported interface, each checked against the WIT's signature."""
        iface = instance.get_export_index(store, export)
        found = []
        for name, (params, result) in wanted.items():
            func = instance.get_func(store, instance.get_export_index(store, name, iface))
            assert func is not None  # checked by the contract
            if signature(func.type(store)) != (params, result):
                raise ModuleFailedError(
                    self.name, f"exports {export}.{name} with another type than cove:host's"
                )
            assert result is not None
            found.append(self.call_path.export(store, func, params, result))
        return found

    @one_at_a_time("init")
    def init(self, calls: HostCalls) -> None:
        self._free_instance()  # the last one's memory goes now, not at a GC cycle
        self._store, self._init_fn, self._handle_fn = self._instantiate()
        self._call(self._init_fn, calls, "init")
        if self._tool_fns is not None:
            specs = self._call(self._tool_fns[0], calls, "list-tools", returns=True)
            self.tools = tuple(tool_spec(self.name, spec) for spec in specs)

    @one_at_a_time("migrate")
    def migrate(self, from_version: str, calls: HostCalls) -> bool:
        """On an instance of its own (``init`` instantiates again after it)."""
        if self._migrate_export is None:
            return False
        self._free_instance()
        self._store, self._init_fn, self._handle_fn = self._instantiate()
        assert self._migrate_fn is not None
        self._call(self._migrate_fn, calls, f"migrate from {from_version}", from_version)
        return True

    def handle(self, event: Event, attempt: int, calls: HostCalls) -> None:
        # ``one_at_a_time`` in place: its ``*args, **kwargs`` call cost every event ~0.4 µs
        if self._inside == threading.get_ident():
            raise reentry(self.name, "handle")
        with self._turn:
            if self._optimized is not None:  # a tiered compile pending (a frame less when none)
                self._at_boundary()
            if self._handle_fn is None:  # a trap in a tool or hook call discarded the instance
                self.init(calls.read_only())
            assert self._handle_fn is not None
            self._checked_call(
                self._handle_fn, calls, "handle", self._handle_args(event, attempt), False
            )

    @one_at_a_time("a tool call")
    def call_tool(self, name: str, arguments_json: str, calls: HostCalls) -> str:
        if self._tool_export is None:
            return super().call_tool(name, arguments_json, calls)
        self._at_boundary()
        if self._handle_fn is None:  # a trap discarded the instance: rebuild it first
            self.init(calls.read_only())
        assert self._tool_fns is not None
        is_ok, result = self._call(
            self._tool_fns[1], calls, f"tool {name}", name, arguments_json, returns=True
        )
        if is_ok:
            try:
                require_size(f"tool {name!r}: the result", result, MAX_PAYLOAD_BYTES)
            except HostCallError as exc:
                raise ToolError(name, "limit-exceeded", exc.message) from None
            return str(result)
        kind, message = result
        raise ToolError(name, kind, guest_error(message))

    @one_at_a_time("a hook")
    def on_hook(self, point: str, payload_json: str, calls: HostCalls) -> HookOutcome:
        """Hook calls take turns; the loader gives hooks an instance of their own."""
        if self._hook_export is None:
            return super().on_hook(point, payload_json, calls)
        with self._hook_lock:
            self._at_boundary()
            if self._handle_fn is None:  # not started yet, or a trap discarded the instance
                self.init(calls.read_only())
            assert self._hook_fn is not None
            is_ok, result = self._call(
                self._hook_fn, calls, f"hook {point}", point, payload_json, returns=True
            )
        if not is_ok:
            raise ModuleFailedError(
                self.name, f"hook {point} returned an error: {guest_error(result)}"
            )
        action, payload, reason = result
        if action not in ("pass", "replace", "veto"):
            raise ModuleFailedError(self.name, f"hook {point} returned action {clip(action, 16)!r}")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ModuleFailedError(
                self.name, f"hook {point}: its payload is over {MAX_PAYLOAD_BYTES} bytes"
            )
        return HookOutcome(action, payload, guest_error(reason))

    def memory_high_water(self, sizes: dict[int, int]) -> int:
        return self._memory.high_water(sizes)

    @one_at_a_time("hibernate")
    def hibernate(self) -> bool:
        """The next call instantiates again and runs init first, as after a trap. The
        linker is every such module's (``_shared_linker``): nothing of it is this one's."""
        self._free_instance()
        return True

    @property
    def awake(self) -> bool:
        """Whether an instance (a Store) is there to call."""
        return self._raw_store is not None

    def close(self) -> None:
        self._free_instance()
        self._output.flush()

    def _free_instance(self) -> None:
        """Drop the instance and free its Store (its linear memory) at once.

        A dropped Store is part of reference cycles (wasmtime-py's callbacks),
        so without ``close`` its memory (up to the memory limit) stayed
        resident until Python's cyclic GC ran; a restart loop stacked them.
        Every object bound to the store is dropped first: none may run again.
        """
        raw = self._raw_store
        self._hook_fn = None
        self._store = self._init_fn = self._handle_fn = self._tool_fns = None
        self._migrate_fn = None
        self._clock = None
        self._raw_store = None
        if raw is not None:
            self._memory.release(raw.close)  # its peak counts, though its memory goes now

    def interrupt(self) -> float:
        """Mark every call from now on cancelled and cut the waits of the one in hand; the
        engine then moves the epoch past every deadline (``WasmRuntime.interrupt``), so a
        guest running code traps at its next epoch check. A WASI wait under way cannot be
        cut: the seconds it still has are returned."""
        self._stopping = True
        calls = self._calls
        if calls is None:
            return 0.0
        calls.cancel()
        return max(0.0, (self._wait_ends_ns - time.perf_counter_ns()) / 1e9)

    def _call(
        self, func: Invoke, calls: HostCalls, what: str, *args: Any, returns: bool = False
    ) -> Any:
        """Run one guest call under the limits; ``returns``: hand back its result as it is."""
        return self._checked_call(func, calls, what, args, returns)

    def _checked_call(
        self, func: Invoke, calls: HostCalls, what: str, args: tuple[Any, ...], returns: bool
    ) -> Any:
        """``_call`` with its arguments as a tuple: each layer takes them positionally (a
        ``*args``/keyword call costs ~0.4 µs more, ``handle`` calls this straight). Once
        the engine is stopping, whatever ended the call, it is cancelled."""
        if self._stopping:
            raise CallCancelledError(self.name, what)
        try:
            return self._limited_call(func, calls, what, args, returns)
        except ModuleFailedError:
            if self._stopping:
                raise CallCancelledError(self.name, what) from None
            raise

    def _limited_call(
        self, func: Invoke, calls: HostCalls, what: str, args: tuple[Any, ...], returns: bool
    ) -> Any:
        store = self._store
        assert store is not None
        limits = self._grants.limits
        store.set_fuel(limits.fuel)
        store.set_epoch_deadline(self._deadline_ticks)
        self._calls = calls
        start = time.perf_counter_ns()
        calls.deadline_ns = start + limits.timeout_ms * 1_000_000
        self._inside = threading.get_ident()
        self._cut = False
        previous = _shared_linker.enter(self)
        try:
            result = func(*args)
            if self._cut:  # it slept past its deadline (see _wasi_clock)
                raise LimitExceededError(
                    self.name, "deadline", f"{what} ran longer than {limits.timeout_ms} ms"
                )
        except LimitExceededError:
            self._discard_instance()
            raise
        except wasmtime.WasmtimeError as exc:
            self._discard_instance()
            parked, self._parked = self._parked, None
            if parked is not None:  # the fast path's host function asked for the trap
                if isinstance(parked, ModuleFailedError) or not isinstance(parked, Exception):
                    raise parked from None
                raise ModuleFailedError(
                    self.name, f"{what}: host error {type(parked).__name__}: {parked}"
                ) from parked
            raise self._failure(what, exc) from None
        except Exception as exc:
            self._discard_instance()
            raise ModuleFailedError(
                self.name, f"{what}: host error {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            _shared_linker.leave(previous)
            self._inside = None
            self._calls = None
            self._parked = None
            self.stats.wall_ns = time.perf_counter_ns() - start
            self.stats.fuel = limits.fuel - store.get_fuel()
            self._output.flush()
            if self._handle_fn is None:  # trapped: nothing will enter it again
                self._free_instance()
        if returns:
            return result
        if result is not None:
            # already cut by the call path (CallPath.func)
            raise ModuleFailedError(self.name, f"{what} returned an error: {result}")
        return None

    def _failure(self, what: str, exc: wasmtime.WasmtimeError) -> ModuleFailedError:
        return trap_error(self.name, what, str(exc), self._grants.limits)

    def _discard_instance(self) -> None:
        # A trapped instance cannot be entered again; the next call rebuilds it.
        self._handle_fn = None

    # host functions (the shared linker's, for this host while its guest runs) -------
    def _park(self, exc: BaseException) -> None:
        """A fast-path host function trapped the call; ``_call`` raises ``exc``."""
        self._parked = exc

    def _current(self) -> HostCalls:
        if self._calls is None:
            raise HostCallError("internal", "host call outside of an event")
        return self._calls

    def _log(self, _store: Any, level: str, message: str, fields: list[tuple[str, str]]) -> None:
        try:
            self._current().log(level, message, dict(fields))
        except HostCallError:
            pass  # logging never fails a module; a refused log line is dropped

    def _config_get(self, key: str) -> Any:
        try:
            return self._current().config_get(key)
        except HostCallError:
            return None

    def _config_keys(self) -> list[str]:
        try:
            return self._current().config_keys()
        except HostCallError:
            return []


def _output_to(host: WasmModuleHost, stream: str) -> Callable[[bytes], None]:
    """Guest output for ``host``, without keeping it alive: wasmtime-py holds these
    callbacks in a global table until the store is dropped, and the host holds the
    store, so a strong reference would keep every closed host for good."""
    ref = weakref.ref(host)

    def write(data: bytes) -> None:
        alive = ref()
        if alive is not None:
            alive._output.write(stream, data)

    return write
