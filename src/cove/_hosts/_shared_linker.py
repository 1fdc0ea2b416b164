"""One linker for every module of a component that imports the same granted interfaces.

Design note: a linker holds WASI's functions, the clock shadow and one host
function per ``cove:host`` import, ~100 KiB. One per module was made again
on every wake of a hibernated module (~0.5 ms of CPU, a tenth of the wake),
and keeping it while asleep would cost more than a hibernated module's
whole budget. Shared, its functions cannot close over a module: they act
for the host whose guest is running on the calling thread (``enter`` /
``leave``, around every guest call and instantiation; wasmtime runs a host
function on the thread that entered the guest, and a call into another
module from inside a host call sets its own host and gives this one back).
Outside any guest call there is no current host: a host call then gets
the "outside of an event" error, as before.

The key is what the linker's functions depend on: the interfaces granted,
the contract version the component was built against, the call path (C
extension or ctypes) and the module's timeout (the cap of a WASI wait
during instantiation). Linkers go with their component (weak keys).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

import wasmtime
from wasmtime.component import Component, Linker

from .._capabilities._calls import HostCalls
from ..errors import HostCallError
from . import _fast_call, _fast_host, _wasi_clock
from ._call_path import CallPath
from ._wasm_contract import HOST_PACKAGE

if TYPE_CHECKING:
    from ._wasm_host import WasmModuleHost

_THREAD = threading.local()
Key = tuple[frozenset[str], str, bool, int]
"""(interfaces, contract version text, C extension or not, timeout ms)"""


def enter(host: WasmModuleHost) -> WasmModuleHost | None:
    """``host``'s guest runs on this thread from now; the host it replaces, for ``leave``."""
    previous: WasmModuleHost | None = getattr(_THREAD, "host", None)
    _THREAD.host = host
    return previous


def leave(previous: WasmModuleHost | None) -> None:
    _THREAD.host = previous


def current() -> WasmModuleHost | None:
    host: WasmModuleHost | None = getattr(_THREAD, "host", None)
    return host


class _Current:
    """The host side ``host_functions`` calls, for the thread's current host."""

    def _current(self) -> HostCalls:
        # current() and the host's _current() written out: two frames less per host call
        host: WasmModuleHost | None = getattr(_THREAD, "host", None)
        calls = None if host is None else host._calls
        if calls is None:
            raise HostCallError("internal", "host call outside of an event")
        return calls

    def _park(self, exc: BaseException) -> None:
        host = current()
        if host is not None:
            host._park(exc)

    def _log(self, store: Any, level: str, message: str, fields: list[tuple[str, str]]) -> None:
        host = current()
        if host is not None:
            host._log(store, level, message, fields)

    def _config_get(self, key: str) -> Any:
        host = current()
        return None if host is None else host._config_get(key)

    def _config_keys(self) -> list[str]:
        host = current()
        return [] if host is None else host._config_keys()


_CURRENT = _Current()


class SharedLinkers:
    """The linkers of one wasmtime engine, made on first use, one per component and key."""

    def __init__(self, engine: wasmtime.Engine, tick_ms: int) -> None:
        self._engine = engine
        self._tick_ns = tick_ms * 1_000_000
        self._lock = threading.Lock()
        self._made: weakref.WeakKeyDictionary[Component, dict[Key, _Made]] = (
            weakref.WeakKeyDictionary()
        )

    def get(
        self,
        component: Component,
        interfaces: frozenset[str],
        version_text: str,
        path: CallPath,
        timeout_ms: int,
    ) -> Linker:
        key = (interfaces, version_text, path.compiled, timeout_ms)
        with self._lock:
            made = self._made.setdefault(component, {})
            if key not in made:
                made[key] = _Made(self._engine, component, key, path, self._tick_ns)
            return made[key].linker


class _Made:
    """A linker and the host functions it points at (they live as long as it)."""

    def __init__(
        self,
        engine: wasmtime.Engine,
        component: Component,
        key: Key,
        path: CallPath,
        tick_ns: int,
    ) -> None:
        interfaces, version_text, _compiled, timeout_ms = key
        self.linker = linker = Linker(engine)
        linker.add_wasip2()
        _wasi_clock.shadow_monotonic_clock(
            linker,
            _wasi_clock.clock_imports(component, engine),
            lambda: getattr(current(), "_clock", None),
            lambda: _wasi_clock.nanos_left(_deadline_of(current())),
            timeout_ms * 1_000_000,
            tick_ns,
            lambda: _mark_cut(current()),
            lambda nanos: _mark_wait(current(), nanos),
        )
        self.functions = _fast_host.host_functions(_CURRENT, path)
        with linker.root() as root:
            for iface in sorted(interfaces):
                if iface in self.functions:
                    with root.add_instance(f"{HOST_PACKAGE}/{iface}@{version_text}") as inst:
                        for name, func in self.functions[iface].items():
                            _fast_call.add_func(inst, name, func)


def _mark_cut(host: WasmModuleHost | None) -> None:
    if host is not None:
        host._cut = True


def _mark_wait(host: WasmModuleHost | None, nanos: int) -> None:
    if host is not None:
        host._wait_ends_ns = time.perf_counter_ns() + nanos


def _deadline_of(host: WasmModuleHost | None) -> int | None:
    calls = None if host is None else host._calls
    return None if calls is None else calls.deadline_ns
