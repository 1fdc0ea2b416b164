"""The wasm fast path: per-event calls straight through wasmtime's C API (C extension or ctypes).

Design note. wasmtime-py stays in charge of setup (engine, compile, cache,
linker, store, WASI, instantiate); only the per-event steps go through the C
API: ``wasmtime_component_func_call`` for init/handle, and host functions
registered with ``wasmtime_component_linker_instance_add_func``. The shapes
are fixed by our WIT, so values are written and read without any type
reflection (``_fast_values``, ``_fast_readers``), which is where wasmtime-py's wrapper spends
most of an event.

Ownership (who frees what):
- Call arguments (event-meta, event) live in a Python-owned ``Arena``; the C
  API only borrows them (it copies them into Rust ``Val``s), so they are
  never passed to a C free function and are reused for the next event.
- The call's result slot is Python memory that Rust fills with Rust-owned
  values; we read it, then ``wasmtime_component_val_delete`` drops what Rust
  put in it and we reset the kind byte to ``bool`` (a valid empty value), so
  the next call's assignment drops nothing twice. An ``ok`` with no payload
  (a null box) owns nothing: it is left in the slot, undeleted, and the next
  assignment's drop of it is a no-op.
- Host-call arguments are owned by Rust and dropped by Rust after the
  callback; we only read them.
- Host-call results must be Rust-owned (Rust drops them after the callback):
  the result is built in an arena and deep-copied into the result slot with
  ``wasmtime_component_val_clone`` (one C call, whatever the shape). The
  ``ok`` of a ``result<_, E>`` is built once, in an arena the ``HostFunc``
  keeps for its lifetime, and cloned from there on every call.
- A trapping host call returns a ``wasmtime_error_new`` pointer, which Rust
  owns from then on; the error ``func_call`` returns is wrapped in
  ``WasmtimeError``, whose finalizer frees it.

Two implementations of these steps, one behaviour: the C extension
``_fast_ext`` (built at install when a compiler is present; the values,
the host-call trampoline and the calls in C, ~2x cheaper per event than
ctypes) and the ctypes code here, used when the extension is missing or
fails its check. ``COMPILED`` says which one new hosts get.

Rejected: building values with ``*_new_uninit`` + per-field C calls (one FFI
round trip per node, and every partial failure needs careful freeing);
holding the GIL across ``func_call`` (PyDLL): the epoch ticker is a Python
thread, so a looping guest would never hit its deadline.

Safety net: at import the pinned wasmtime version, the struct layouts
(wasmtime-py's ctypes declarations against our constants), the required
symbols and a clone round trip are checked; any mismatch leaves
``UNAVAILABLE`` set to the reason, and hosts use the wrapper path. The C
extension is then round-tripped against the ctypes readers and writers;
a mismatch leaves ``EXT_PROBLEM`` set and hosts use ctypes.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import structlog
import wasmtime
from wasmtime import _ffi as ffi

from ..errors import LimitExceededError
from . import _fast_readers as fr
from . import _fast_values as fv

if TYPE_CHECKING:
    from . import _fast_ext

log = structlog.get_logger("cove.wasm")

PINNED_WASMTIME = "50.0.1"

_SYMBOLS = (
    "wasmtime_component_func_call",
    "wasmtime_component_linker_instance_add_func",
    "wasmtime_component_val_clone",
    "wasmtime_component_val_delete",
    "wasmtime_error_new",
    "wasmtime_context_set_fuel",
    "wasmtime_context_get_fuel",
    "wasmtime_context_set_epoch_deadline",
)

_VOIDP = ctypes.c_void_p
CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_size_t, _VOIDP, _VOIDP, _VOIDP, _VOIDP, ctypes.c_size_t, _VOIDP, ctypes.c_size_t
)
"""(data, context, func type, args, nargs, results, nresults) -> wasmtime_error_t* or 0"""


def _offset(struct: Any, field: str) -> int:
    return int(getattr(struct, field).offset)


def _layout_problem() -> str | None:
    version = importlib.metadata.version("wasmtime")
    if version != PINNED_WASMTIME:
        return f"wasmtime {version} is not the pinned {PINNED_WASMTIME}"
    if ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
        return "not a 64-bit little-endian platform"
    checks = {
        "sizeof(wasmtime_component_val_t)": (ctypes.sizeof(ffi.wasmtime_component_val_t), 32),
        "offsetof(val.of)": (_offset(ffi.wasmtime_component_val_t, "of"), fv.PAYLOAD),
        "sizeof(valrecord_entry)": (
            ctypes.sizeof(ffi.wasmtime_component_valrecord_entry),
            fv.ENTRY_SIZE,
        ),
        "offsetof(entry.val)": (
            _offset(ffi.wasmtime_component_valrecord_entry, "val"),
            fv.ENTRY_VAL,
        ),
        "sizeof(wasm_byte_vec_t)": (ctypes.sizeof(ffi.wasm_byte_vec_t), 16),
        "offsetof(byte_vec.data)": (_offset(ffi.wasm_byte_vec_t, "data"), 8),
        "offsetof(variant.val)": (_offset(ffi.wasmtime_component_valvariant, "val"), 16),
        "offsetof(result.val)": (_offset(ffi.wasmtime_component_valresult, "val"), 8),
        "kind string": (ffi.WASMTIME_COMPONENT_STRING.value, fv.K_STRING),
        "kind list": (ffi.WASMTIME_COMPONENT_LIST.value, fv.K_LIST),
        "kind record": (ffi.WASMTIME_COMPONENT_RECORD.value, fv.K_RECORD),
        "kind variant": (ffi.WASMTIME_COMPONENT_VARIANT.value, fv.K_VARIANT),
        "kind result": (ffi.WASMTIME_COMPONENT_RESULT.value, fv.K_RESULT),
        "kind option": (ffi.WASMTIME_COMPONENT_OPTION.value, fv.K_OPTION),
        "kind u64": (ffi.WASMTIME_COMPONENT_U64.value, fv.K_U64),
        "callback arity": (len(ffi.wasmtime_component_func_callback_t._argtypes_), 7),
    }
    for what, (found, expected) in checks.items():
        if found != expected:
            return f"{what} is {found}, expected {expected}"
    for name in _SYMBOLS:
        try:
            ffi.dll[name]
        except AttributeError:
            return f"symbol {name} missing from libwasmtime"
    return None


def _prototype(name: str, restype: Any, *argtypes: Any) -> Any:
    # dll[name] is a fresh function object: wasmtime-py's (dll.name) keeps its argtypes.
    func = ffi.dll[name]
    func.restype = restype
    func.argtypes = argtypes
    return func


UNAVAILABLE: str | None = _layout_problem()
if UNAVAILABLE is None:
    _func_call = _prototype(
        "wasmtime_component_func_call", _VOIDP, _VOIDP, _VOIDP, _VOIDP, ctypes.c_size_t, _VOIDP,
        ctypes.c_size_t,
    )  # fmt: skip
    _add_func = _prototype(
        "wasmtime_component_linker_instance_add_func", _VOIDP, _VOIDP, ctypes.c_char_p,
        ctypes.c_size_t, _VOIDP, _VOIDP, _VOIDP,
    )  # fmt: skip
    _val_clone = _prototype("wasmtime_component_val_clone", None, _VOIDP, _VOIDP)
    _val_delete = _prototype("wasmtime_component_val_delete", None, _VOIDP)
    _error_new = _prototype("wasmtime_error_new", _VOIDP, ctypes.c_char_p)
    _set_fuel = _prototype("wasmtime_context_set_fuel", _VOIDP, _VOIDP, ctypes.c_uint64)
    _get_fuel = _prototype("wasmtime_context_get_fuel", _VOIDP, _VOIDP, _VOIDP)
    _set_deadline = _prototype("wasmtime_context_set_epoch_deadline", None, _VOIDP, ctypes.c_uint64)


def _through_rust(write: Callable[[int], None], read: Callable[[int], Any]) -> Any:
    """``write`` a Rust-owned value into a fresh slot, ``read`` it back, free it."""
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    address = ctypes.addressof(slot)
    write(address)
    try:
        return read(address)
    finally:
        _val_delete(address)


def _cloned(ty: fv.Type, value: Any) -> Callable[[int], None]:
    """A writer for ``_through_rust``: ``value`` laid out by ctypes, cloned into the slot."""
    arena = fv.Arena()  # the closure keeps it alive until the clone

    def write(address: int) -> None:
        _val_clone(arena.encode(fv.writer(ty), value), address)

    return write


def _round_trip_problem() -> str | None:
    """Clone a value of every shape we write into Rust memory and read it back."""
    ty: fv.Type = (
        "tuple",
        [
            ("result", None, ("record", [("kind", ("enum", ["a", "b"])), ("m", ("string",))])),
            ("bytes",),
            ("list", ("string",)),
        ],
    )
    value = ((False, ("b", "héllo")), b"\x00\x01\xff", ["x", ""])
    read = fr._tuple_reader([_peek_result, fr.reader(("bytes",)), fr.reader(("list", ("string",)))])
    first, second, third = _through_rust(
        _cloned(ty, value), lambda address: read(ctypes.string_at(address, fv.VAL_SIZE), 0)
    )
    if (first, second, third) != (("b", "héllo"), value[1], value[2]):
        return f"clone round trip read back {(first, second, third)!r}"
    return None


def _peek_result(raw: bytes, at: int) -> Any:
    fr._check(raw, at, fv.K_RESULT)
    pointer = fv._RESULT.unpack_from(raw, at)[2]
    inner = ctypes.string_at(pointer, fv.VAL_SIZE)
    return fr.reader(("record", [("kind", ("enum", ["a", "b"])), ("m", ("string",))]))(inner, 0)


if UNAVAILABLE is None:
    try:
        UNAVAILABLE = _round_trip_problem()
    except Exception as exc:  # pragma: no cover - only on a broken library
        UNAVAILABLE = f"clone round trip failed: {exc!r}"


def _address(pointer: Any) -> int:
    value = ctypes.cast(pointer, ctypes.c_void_p).value
    assert value is not None
    return value


def _raise(error: int) -> None:
    raise wasmtime.WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))


def _load_ext() -> tuple[Any, str | None]:
    """The C extension, bound to libwasmtime and checked; or why it is not used."""
    if UNAVAILABLE is not None:
        return None, UNAVAILABLE
    try:
        from . import _fast_ext
    except ImportError as exc:
        return None, f"C extension not built ({exc})"
    a = _address
    try:  # a build from an older _fast_ext.c may not fit: fall back, never fail the import
        _fast_ext.bind(a(_func_call), a(_val_clone), a(_val_delete), a(_error_new),
                       a(_set_fuel), a(_get_fuel), a(_set_deadline), _raise)  # fmt: skip
        problem = _ext_round_trip_problem(_fast_ext)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    return (None, f"C extension failed its check ({problem})") if problem else (_fast_ext, None)


def _ext_round_trip_problem(ext: Any) -> str | None:
    """Values written by C read back by ctypes' readers, and the other way round."""
    ty: fv.Type = ("tuple", [("record", [("k", ("enum", ["a", "b"])), ("n", ("u64",))]),
                             ("bytes",), ("list", ("string",))])  # fmt: skip
    value = (("b", 2**64 - 1), b"\x00\x01\xff", ["x", "", "héllo"])
    shape = ext.Shape(ty)
    read = _through_rust(
        lambda address: shape.clone_into(value, address),
        lambda address: fr.reader(ty)(ctypes.string_at(address, fv.VAL_SIZE), 0),
    )
    if read != value:
        return f"C-written value read back as {read!r}"
    read = _through_rust(_cloned(ty, value), shape.read)
    return None if read == value else f"C read a ctypes-written value as {read!r}"


_EXT, EXT_PROBLEM = _load_ext()
COMPILED = _EXT is not None
"""The C extension is built and passed its checks (``CallPath.named("fast")`` uses it)."""


def implementation() -> str:
    """Which fast path new hosts get by default, for ``cove check`` and the load log."""
    if COMPILED:
        return "C extension"
    return f"ctypes ({EXT_PROBLEM})" if EXT_PROBLEM else "ctypes"


class FastStore:
    """The per-call limits of a ``wasmtime.Store``, set through the C API.

    The three calls the wasm host makes around every event, without
    wasmtime-py's per-call context lookup and pointer boxing.
    """

    def __init__(self, store: wasmtime.Store) -> None:
        self.store = store  # the context pointer lives as long as the store
        self._context = _address(store._context())
        self._fuel = ctypes.c_uint64()
        self._fuel_addr = ctypes.addressof(self._fuel)

    def set_fuel(self, fuel: int) -> None:
        error = _set_fuel(self._context, fuel)
        if error:
            _raise(error)

    def get_fuel(self) -> int:
        error = _get_fuel(self._context, self._fuel_addr)
        if error:
            _raise(error)
        return self._fuel.value

    def set_epoch_deadline(self, ticks: int) -> None:
        _set_deadline(self._context, ticks)


class FastFunc:
    """``init``/``handle`` of one instance, called through the C API."""

    def __init__(
        self, store: wasmtime.Store, func: Any, params: list[fv.Type], error_limit: int = -1
    ) -> None:
        # The raw addresses below point into these objects: keep them alive.
        self._error_limit = error_limit
        self._store = store
        self._func = func
        self._func_addr = ctypes.addressof(func._func)
        self._context = _address(store._context())
        self._write_args = _args_writer([fv.writer(t) for t in params])
        self._arena = fv.Arena()
        self._result = (ctypes.c_char * fv.VAL_SIZE)()  # Python memory; contents Rust's
        self._result_addr = ctypes.addressof(self._result)

    def __call__(self, *args: Any) -> str | None:
        """Run the export; None on ok, the guest's error text on err.

        Raises ``WasmtimeError`` for a trap, including one a host function
        asked for (the host keeps the exception it parked).
        """
        count = len(args)
        arena = self._arena
        args_addr = arena.encode(self._write_args, args) if count else 0
        error = _func_call(self._func_addr, self._context, args_addr, count, self._result_addr, 1)
        if arena.capacity > fv.SHRINK_ABOVE:
            arena.shrink()
        if error:
            _raise(error)
        raw = self._result.raw
        kind, is_ok, payload = fv._RESULT.unpack_from(raw)
        if kind == fv.K_RESULT and is_ok and not payload:
            # ok without a payload owns no Rust memory: nothing to delete, and
            # the next call's assignment drops nothing (the common case).
            return None
        try:
            return fr.read_result_string_error(raw, self._error_limit)
        finally:
            _val_delete(self._result_addr)
            self._result[0] = b"\x00"  # kind bool: nothing left to drop


Store: TypeAlias = "FastStore | _fast_ext.Store"
"""The per-call limits of a store: set_fuel, get_fuel, set_epoch_deadline."""
Func = Callable[..., "str | None"]


def _args_writer(params: list[fv.Writer]) -> fv.Writer:
    """Lay out a call's arguments as an array of vals at offset 0 (``encode`` reserved one).

    ``handle``'s two are written without a loop: it runs on every event.
    """
    if len(params) == 2:
        first, second = params

        def write_two(arena: fv.Arena, args: tuple[Any, ...], at: int) -> None:
            meta, event = args
            arena.take(fv.VAL_SIZE)
            first(arena, meta, at)
            second(arena, event, at + fv.VAL_SIZE)

        return write_two
    placed = [(write, i * fv.VAL_SIZE) for i, write in enumerate(params)]

    def write(arena: fv.Arena, args: tuple[Any, ...], at: int) -> None:
        arena.take(fv.VAL_SIZE * (len(args) - 1))
        for (put, offset), value in zip(placed, args, strict=True):
            put(arena, value, at + offset)

    return write


HostBody = Callable[..., Any]
OK_UNIT = (True, None)
"""The ``ok`` of a ``result<_, E>``."""


class HostFunc:
    """One ``cove:host`` import; no type reflection per call.

    wasmtime calls the function at ``address`` with ``data``: the C
    extension's trampoline with its ``Callback``, or a ctypes callback.
    Either one decodes the arguments, runs ``invoke``, and on an exception
    hands it to ``fail`` and traps the call.
    """

    def __init__(
        self,
        params: list[fv.Type],
        result: fv.Type | None,
        body: HostBody,
        park: Callable[[BaseException], None],
        on_error: Callable[[Exception], Any],
        *,
        compiled: bool,
    ) -> None:
        self.params, self.result = params, result  # the declared shapes (a test checks them)
        self._body = body
        self._park = park
        self._on_error = on_error
        self.address: int
        self.data: int | None = None
        if compiled:
            self._ext = _EXT.Callback(
                [_EXT.Shape(t) for t in params],
                None if result is None else _EXT.Shape(result),
                self.invoke,
                self.fail,
            )  # kept alive as long as the host: wasmtime holds its address
            self.address, self.data = _EXT.TRAMPOLINE, id(self._ext)
        else:
            self._ctypes = _CtypesCallback(params, result, self)
            self.address = _address(self._ctypes.callback)

    def invoke(self, *values: Any) -> Any:
        """The body's answer; an unexpected exception becomes ``on_error``'s value."""
        try:
            return self._body(*values)
        except LimitExceededError:
            raise
        except Exception as exc:  # a bug or a backend failure: the WIT's "internal"
            log.warning("host function failed", error=f"{type(exc).__name__}: {exc}")
            return self._on_error(exc)

    def fail(self, exc: BaseException) -> bytes:
        """Keep ``exc`` for the host to raise after the trap; the trap's message."""
        self._park(exc)
        return f"cove host call failed: {type(exc).__name__}".encode()


class _CtypesCallback:
    """A ``HostFunc`` as a ctypes callback: the fallback when ``_fast_ext`` is missing."""

    def __init__(self, params: list[fv.Type], result: fv.Type | None, func: HostFunc) -> None:
        self._readers = [(fr.reader(t), i * fv.VAL_SIZE) for i, t in enumerate(params)]
        self._nargs = len(params)
        self._nresults = 0 if result is None else 1
        self._write = None if result is None else fv.writer(result)
        self._invoke = func.invoke
        self._fail = func.fail
        self._arena = fv.Arena()
        # ``ok`` of a ``result<_, E>`` (most writes answer it) is encoded once, here.
        self._ok_root = 0
        if self._write is not None and result is not None and result[:2] == ("result", None):
            self._ok_arena = fv.Arena(fv.VAL_SIZE)
            self._ok_root = self._ok_arena.encode(self._write, OK_UNIT)
        self.callback = CALLBACK(self._call)

    def _call(
        self,
        _data: int | None,
        _context: int | None,
        _ty: int | None,
        args: int | None,
        nargs: int,
        results: int | None,
        nresults: int,
    ) -> int:
        try:
            if nargs != self._nargs or nresults != self._nresults:
                raise TypeError(f"import has {nargs} params/{nresults} results, not the WIT's")
            raw = ctypes.string_at(args or 0, nargs * fv.VAL_SIZE) if nargs else b""
            value = self._invoke(*[read(raw, at) for read, at in self._readers])
            write = self._write
            if write is not None:
                assert results
                if self._ok_root and value == OK_UNIT:
                    root = self._ok_root
                else:
                    root = self._arena.encode(write, value)
                    if self._arena.capacity > fv.SHRINK_ABOVE:
                        self._arena.shrink()
                _val_clone(root, results)  # deep copy into Rust memory; Rust drops it
            return 0
        except BaseException as exc:
            try:
                message = self._fail(exc)
            except BaseException:  # returning 0 would be success with no result written
                message = b"cove host call failed"
            return int(_error_new(message) or 0)


def add_func(instance: Any, name: str, func: HostFunc) -> None:
    """Register ``func`` on a wasmtime-py ``LinkerInstance``."""
    data = name.encode()
    error = _add_func(_address(instance.ptr()), data, len(data), func.address, func.data, None)
    if error:
        _raise(error)
