"""The call path a wasm host is given: the C extension or its ctypes twin, as one object.

A host is handed its ``CallPath`` (the engine config's ``[wasm] call_path``
picks it), so a test or a bench runs either implementation by passing it,
without touching module state. Both implementations live in ``_fast_call``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime

from .._capabilities._bounds import MAX_ERROR_CHARS
from . import _fast_call as fc
from . import _fast_readers as fr
from . import _fast_values as fv
from ._fast_call import FastFunc, FastStore, Func, HostBody, HostFunc, Store


class CallPath:
    """One implementation of the per-call steps (C extension or ctypes), handed to a host."""

    def __init__(self, compiled: bool) -> None:
        if compiled and fc._EXT is None:
            raise ValueError(f"the C extension is not usable: {fc.EXT_PROBLEM}")
        self.compiled = compiled
        self.name = "C extension" if compiled else "ctypes"

    @classmethod
    def named(cls, name: str) -> CallPath:
        """``fast``: the C extension when it is usable, else ctypes; ``ctypes``: ctypes."""
        return cls(fc.COMPILED and name == "fast")

    def store(self, store: wasmtime.Store) -> Store:
        if self.compiled:
            made: Store = fc._EXT.Store(store, fc._address(store._context()))
            return made
        return FastStore(store)

    def func(self, store: wasmtime.Store, func: Any, params: list[fv.Type]) -> Func:
        """An export returning ``result<_, string>``: None on ok, the guest's error text on
        err, already cut to ``MAX_ERROR_CHARS`` (only the kept part is decoded)."""
        if self.compiled:
            shapes = [fc._EXT.Shape(t) for t in params]
            context = fc._address(store._context())
            address = ctypes.addressof(func._func)
            made: Func = fc._EXT.Func((store, func), address, context, shapes, MAX_ERROR_CHARS)
            return made
        return FastFunc(store, func, params, MAX_ERROR_CHARS)

    def export(
        self, store: wasmtime.Store, func: Any, params: list[fv.Type], result: fv.Type
    ) -> Callable[..., Any]:
        """An export of any result type (tools, hooks), its result read as a value."""
        read: Callable[[int], Any]
        if self.compiled:
            read = fc._EXT.Shape(result).read
        else:
            read_raw = fr.reader(result)

            def read(address: int) -> Any:
                return read_raw(ctypes.string_at(address, fv.VAL_SIZE), 0)

        return ExportFunc(store, func, params, read)

    def host_func(
        self,
        params: list[fv.Type],
        result: fv.Type | None,
        body: HostBody,
        park: Callable[[BaseException], None],
        on_error: Callable[[Exception], Any],
    ) -> HostFunc:
        return HostFunc(params, result, body, park, on_error, compiled=self.compiled)


class ExportFunc:
    """An export called through the C API with its result read back (not the per-event call:
    ``list-tools``, ``call-tool``, ``on-hook``)."""

    def __init__(
        self, store: wasmtime.Store, func: Any, params: list[fv.Type], read: Callable[[int], Any]
    ) -> None:
        self._store = store  # the raw addresses below point into these objects
        self._func = func
        self._func_addr = ctypes.addressof(func._func)
        self._context = fc._address(store._context())
        self._write_args = fc._args_writer([fv.writer(t) for t in params]) if params else None
        self._read = read
        self._arena = fv.Arena()
        self._result = (ctypes.c_char * fv.VAL_SIZE)()
        self._result_addr = ctypes.addressof(self._result)

    def __call__(self, *args: Any) -> Any:
        write = self._write_args
        address = self._arena.encode(write, args) if write is not None else 0
        error = fc._func_call(
            self._func_addr, self._context, address, len(args), self._result_addr, 1
        )
        if error:
            fc._raise(error)
        try:
            return self._read(self._result_addr)
        finally:
            fc._val_delete(self._result_addr)
            self._result[0] = b"\x00"  # kind bool: nothing left to drop
