"""The C extension of the fast path writes and reads values exactly as its ctypes twin.

Every value either one writes is deep-copied into Rust-owned memory with
``wasmtime_component_val_clone`` and then read back by the other, or dumped
pointer by pointer, so both sides agree on the layout wasmtime sees.
"""

from __future__ import annotations

import ctypes
import gc
import struct
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cove._hosts import _fast_call as fc
from cove._hosts import _fast_host as fh
from cove._hosts import _fast_readers as fr
from cove._hosts import _fast_values as fv

pytestmark = pytest.mark.skipif(fc.EXT_PROBLEM is not None, reason=str(fc.EXT_PROBLEM))
ext = fc._EXT


@contextmanager
def rust_owned() -> Iterator[int]:
    """A result slot as wasmtime hands one out; whatever is cloned into it is freed after."""
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    address = ctypes.addressof(slot)
    try:
        yield address
    finally:
        fc._val_delete(address)


def c_written(ty: fv.Type, value: Any, read: Callable[[int], Any]) -> Any:
    with rust_owned() as slot:
        ext.Shape(ty).clone_into(value, slot)
        return read(slot)


def ctypes_written(ty: fv.Type, value: Any, read: Callable[[int], Any]) -> Any:
    arena = fv.Arena(64)  # tiny: values here make it grow and start over
    with rust_owned() as slot:
        fc._val_clone(arena.encode(fv.writer(ty), value), slot)
        return read(slot)


# Types and values ------------------------------------------------------------
NAMES = st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=4, unique=True).map(
    lambda letters: [f"n-{c}" for c in letters]
)
INTS = {"u8": 2**8, "u16": 2**16, "u32": 2**32, "u64": 2**64}


def values_of(ty: fv.Type) -> st.SearchStrategy[Any]:
    tag = ty[0]
    if tag == "string":
        return st.text()
    if tag == "bytes":
        return st.binary(max_size=300)
    if tag in INTS:
        return st.integers(0, INTS[tag] - 1)
    if tag == "s64":
        return st.integers(-(2**63), 2**63 - 1)
    if tag == "f64":
        return st.floats(allow_nan=False)
    if tag == "bool":
        return st.booleans()
    if tag == "enum":
        return st.sampled_from(ty[1])
    if tag == "list":
        return st.lists(values_of(ty[1]), max_size=4)
    if tag == "tuple":
        return st.tuples(*(values_of(t) for t in ty[1]))
    if tag == "record":
        return st.tuples(*(values_of(t) for _, t in ty[1]))
    if tag == "option":
        return st.none() | values_of(ty[1])
    if tag == "variant":
        return st.one_of(
            *(
                st.tuples(st.just(name), st.none() if t is None else values_of(t))
                for name, t in ty[1]
            )
        )
    assert tag == "result"
    sides = [st.none() if t is None else values_of(t) for t in ty[1:]]
    return st.tuples(st.just(True), sides[0]) | st.tuples(st.just(False), sides[1])


def types(leaves: list[str], containers: list[str]) -> st.SearchStrategy[fv.Type]:
    """``leaves``: scalar type names; an enum with random names is always among them."""
    leaf = st.sampled_from(leaves).map(lambda t: (t,)) | NAMES.map(lambda names: ("enum", names))

    def extend(inner: st.SearchStrategy[fv.Type]) -> st.SearchStrategy[fv.Type]:
        maybe = st.none() | inner
        made = {
            "list": inner.map(lambda t: ("list", t)),
            "tuple": st.lists(inner, min_size=1, max_size=3).map(lambda ts: ("tuple", ts)),
            "record": st.lists(inner, min_size=1, max_size=3).map(
                lambda ts: ("record", [(f"f-{i}", t) for i, t in enumerate(ts)])
            ),
            "option": inner.map(lambda t: ("option", t)),
            "variant": NAMES.flatmap(
                lambda names: st.lists(maybe, min_size=len(names), max_size=len(names)).map(
                    lambda ts: ("variant", list(zip(names, ts, strict=True)))
                )
            ),
            "result": st.tuples(maybe, maybe).map(lambda sides: ("result", *sides)),
        }
        return st.one_of(*(made[c] for c in containers))

    return st.recursive(leaf, extend, max_leaves=6)


READABLE = types(["string", "bytes", "u64"], ["list", "tuple", "record"])
"""The shapes host-call arguments use: both sides can read them."""
EVERY = types(
    ["string", "bytes", "u8", "u16", "u32", "u64", "s64", "f64", "bool"],
    ["list", "tuple", "record", "option", "variant", "result"],
)


def typed_values(types: st.SearchStrategy[fv.Type]) -> st.SearchStrategy[tuple[fv.Type, Any]]:
    return types.flatmap(lambda ty: st.tuples(st.just(ty), values_of(ty)))


def as_read(ty: fv.Type, value: Any) -> Any:
    """``value`` in the form readers return: lists for lists, tuples for the rest."""
    tag = ty[0]
    if tag == "list":
        return [as_read(ty[1], v) for v in value]
    if tag == "tuple":
        return tuple(as_read(t, v) for t, v in zip(ty[1], value, strict=True))
    if tag == "record":
        return tuple(as_read(t, v) for (_, t), v in zip(ty[1], value, strict=True))
    return value


# A val tree dumped by following its pointers (layout of the pinned C API) ---
_SCALAR = {
    fv.K_BOOL: "?", fv.K_U8: "B", fv.K_U16: "H", fv.K_U32: "I", fv.K_U64: "Q",
    fv.K_S64: "q", fv.K_F64: "d",
}  # fmt: skip


def dump(address: int) -> Any:
    raw = ctypes.string_at(address, fv.VAL_SIZE)
    kind = raw[0]
    if kind in _SCALAR:
        return kind, struct.unpack_from("<" + _SCALAR[kind], raw, 8)[0]
    size, pointer = struct.unpack_from("<QQ", raw, 8)
    if kind in (fv.K_STRING, fv.K_ENUM):
        return kind, ctypes.string_at(pointer, size) if size else b""
    if kind in (fv.K_LIST, fv.K_TUPLE):
        return kind, [dump(pointer + i * fv.VAL_SIZE) for i in range(size)]
    if kind == fv.K_RECORD:
        return kind, [_entry(pointer + i * fv.ENTRY_SIZE) for i in range(size)]
    if kind == fv.K_VARIANT:
        (boxed,) = struct.unpack_from("<Q", raw, 24)
        return kind, ctypes.string_at(pointer, size), dump(boxed) if boxed else None
    if kind == fv.K_OPTION:
        return kind, dump(size) if size else None
    assert kind == fv.K_RESULT, kind
    return kind, bool(raw[8]), dump(pointer) if pointer else None


def _entry(address: int) -> Any:
    size, pointer = struct.unpack_from("<QQ", ctypes.string_at(address, 16))
    return ctypes.string_at(pointer, size), dump(address + fv.ENTRY_VAL)


# Properties ------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(typed=typed_values(READABLE))
def test_what_c_writes_the_ctypes_readers_read(typed: tuple[fv.Type, Any]) -> None:
    ty, value = typed
    assert as_read(ty, value) == c_written(ty, value, lambda at: fr.reader(ty)(bytes_at(at), 0))


@settings(max_examples=200, deadline=None)
@given(typed=typed_values(READABLE))
def test_what_ctypes_writes_the_c_reader_reads(typed: tuple[fv.Type, Any]) -> None:
    ty, value = typed
    assert as_read(ty, value) == ctypes_written(ty, value, ext.Shape(ty).read)


@settings(max_examples=300, deadline=None)
@given(typed=typed_values(EVERY))
def test_both_writers_give_wasmtime_the_same_value_tree(typed: tuple[fv.Type, Any]) -> None:
    ty, value = typed
    assert ctypes_written(ty, value, dump) == c_written(ty, value, dump)


_ERROR = st.tuples(st.sampled_from(fh.ERROR_KINDS), st.text(max_size=20))


@settings(max_examples=200, deadline=None)
@given(
    typed=st.one_of(
        st.tuples(
            st.just(fh.GET_TEXT),
            st.tuples(st.none() | st.text(max_size=30), st.none() | _ERROR),
        ),
        st.tuples(st.just(("option", fh.HOST_ERROR)), st.none() | _ERROR),
    )
)
def test_the_0_3_text_results_are_written_alike_by_both_paths(typed: tuple[fv.Type, Any]) -> None:
    """``store.get-text``/``set-text``'s results (a value and an error side by side, or
    an optional error): the C extension and ctypes give wasmtime the same value tree."""
    ty, value = typed
    assert ctypes_written(ty, value, dump) == c_written(ty, value, dump)


def bytes_at(address: int) -> bytes:
    return ctypes.string_at(address, fv.VAL_SIZE)


# Refusals --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ty", "value", "error"),
    [
        (("string",), 5, TypeError),
        (("string",), "\udcff", UnicodeEncodeError),  # Rust needs valid UTF-8
        (("bytes",), "text", TypeError),
        (("u8",), 256, OverflowError),
        (("u64",), -1, OverflowError),
        (("u64",), 2**64, OverflowError),
        (("enum", ["a"]), "b", KeyError),
        (("variant", [("a", None)]), ("b", None), KeyError),
        (("variant", [("a", None)]), "a", TypeError),
        (("record", [("x", ("string",))]), ("a", "b"), TypeError),
        (("tuple", [("string",), ("u64",)]), ("a",), TypeError),
        (("result", None, None), True, TypeError),
        (("list", ("string",)), 7, TypeError),
    ],
)  # fmt: skip
def test_the_c_writer_refuses_a_value_of_another_shape(
    ty: fv.Type, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error), rust_owned() as slot:
        ext.Shape(ty).clone_into(value, slot)


@pytest.mark.parametrize(
    ("written", "value", "expected"),
    [
        (("u32",), 7, ("string",)),
        (("list", ("string",)), ["a"], ("bytes",)),
        (("record", [("a", ("string",))]), ("x",), ("record", [("a", ("string",)), ("b", ("u64",))])),
        (("tuple", [("u64",)]), (1,), ("tuple", [("u64",), ("u64",)])),
        (("enum", ["other"]), "other", ("enum", ["known"])),
        (("string",), "x", ("list", ("string",))),
    ],
)  # fmt: skip
def test_the_c_reader_refuses_a_value_of_another_kind(
    written: fv.Type, value: Any, expected: fv.Type
) -> None:
    """A guest importing `get: func(key: u32)`: a TypeError, never a read through a bogus pointer."""
    with pytest.raises(TypeError):
        ctypes_written(written, value, ext.Shape(expected).read)


@pytest.mark.parametrize(
    "spec",
    [
        ("nope",), ("list",), "string", ("record", [("a",)]), (), ("enum", 5), ("enum", ["a", 1]),
        ("variant", ["a"]), ("variant", [("a", None), ("b", ("nope",))]), ("result", ("string",)),
        ("tuple", [("string",), None]), ("option", ("list", ("u8", "x"), "extra")),
    ],
)  # fmt: skip
def test_a_malformed_type_is_refused_when_compiled(spec: Any) -> None:
    with pytest.raises(TypeError):
        ext.Shape(spec)


def test_a_type_nested_in_itself_is_refused_whatever_the_recursion_limit() -> None:
    """A depth cap, not Python's recursion limit: a raised limit let the C stack overflow."""
    fields: list[Any] = []
    ty = ("tuple", fields)
    fields.append(ty)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(TypeError, match="nested more than"):
            ext.Shape(ty)
    finally:
        sys.setrecursionlimit(limit)


def test_the_deepest_type_cove_uses_compiles() -> None:
    deep: fv.Type = ("string",)
    for _ in range(30):
        deep = ("list", deep)
    assert [[[]]] == c_written(deep, [[[]]], ext.Shape(deep).read)


class Miscounted:
    """Names whose ``len()`` is fewer than iterating them gives."""

    def __init__(self, names: list[Any]) -> None:
        self.names = names

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Any]:
        return iter(self.names)


@pytest.mark.parametrize("wrap", [Miscounted, iter], ids=["miscounted", "iterator"])
def test_the_names_of_an_enum_or_variant_are_walked_once(wrap: Callable[[Any], Any]) -> None:
    """One slot per name actually compiled (a count from ``len()`` overflowed the heap)."""
    enum = ext.Shape(("enum", wrap(["a", "b", "c"])))
    variant = ext.Shape(("variant", wrap([("a", None), ("b", None), ("c", ("string",))])))
    with rust_owned() as slot:
        enum.clone_into("c", slot)
        assert "c" == enum.read(slot)
    with rust_owned() as slot:
        variant.clone_into(("c", "x"), slot)
        assert (fv.K_VARIANT, b"c", (fv.K_STRING, b"x")) == dump(slot)


@pytest.mark.parametrize(
    "ty",
    [
        ("option", ("string",)), ("bool",), ("u32",), ("list", ("f64",)),
        ("record", [("a", ("string",)), ("b", ("u8",))]), ("variant", [("a", None)]),
    ],
)  # fmt: skip
def test_a_host_function_of_a_param_without_a_reader_is_refused_when_made(ty: fv.Type) -> None:
    """As the ctypes twin refuses it (``fr.reader``), not a trap on every call."""
    with pytest.raises(TypeError):
        fr.reader(ty)
    with pytest.raises(TypeError, match="no reader"):
        ext.Callback([ext.Shape(("string",)), ext.Shape(ty)], None, print, print)


def test_a_host_function_of_too_many_params_is_refused() -> None:
    shapes = [ext.Shape(("string",))] * (ext.MAX_PARAMS + 1)
    with pytest.raises(TypeError, match="at most"):
        ext.Callback(shapes, None, print, print)


def test_a_list_emptied_while_it_is_written_is_refused_not_read_after_free() -> None:
    """A value's ``__bool__`` (any Python code the writer runs) may change the list."""
    entries: list[Any] = []

    class Clears:
        def __bool__(self) -> bool:
            entries.clear()
            return True

    entries += [(Clears(), "a"), (True, "b")]
    shape = ext.Shape(("list", ("tuple", [("bool",), ("string",)])))
    with pytest.raises(RuntimeError, match="changed size"), rust_owned() as slot:
        shape.clone_into(entries, slot)


def test_a_shape_re_entered_while_writing_refuses_instead_of_freeing_its_blocks() -> None:
    """Python code a value runs may write with the same Shape: that reset the blocks in use."""
    shape = ext.Shape(("list", ("tuple", [("bool",), ("string",)])))

    class Reenters:
        def __bool__(self) -> bool:
            with rust_owned() as inner:
                shape.clone_into([(True, "y" * 20_000)], inner)
            return True

    with pytest.raises(RuntimeError, match="re-entered"), rust_owned() as slot:
        shape.clone_into([(True, "x" * 20_000), (Reenters(), "z")], slot)
    with rust_owned() as slot:  # and it is usable again
        shape.clone_into([(False, "w")], slot)
        assert (fv.K_LIST, [(fv.K_TUPLE, [(fv.K_BOOL, False), (fv.K_STRING, b"w")])]) == dump(slot)


def test_a_func_re_entered_while_writing_its_arguments_refuses() -> None:
    """The inner call would reset the arena the outer one is writing (and share its result slot)."""
    func = ext.Func(None, 0, 0, [ext.Shape(("s64",))])  # never reaches wasmtime here

    class Reenters:
        def __index__(self) -> int:
            func(1)
            return 1

    with pytest.raises(RuntimeError, match="re-entered"):
        func(Reenters())
    for _ in range(2):  # a failed write leaves it callable
        with pytest.raises(TypeError):
            func("not a number")


# Lifetimes ---------------------------------------------------------------------
def test_a_host_function_is_freed_once_nothing_holds_it() -> None:
    """Its Callback points back at it (``invoke``, ``fail``): a cycle the collector must see.

    The host's functions close over the host, so an uncollectable cycle here
    kept every dropped module (store, instance, linear memory) alive.
    """
    func = fc.HostFunc([("string",)], ("list", ("string",)), print, print, print, compiled=True)
    gone = weakref.ref(func)
    del func
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize(
    "make",
    [
        lambda params: ext.Func(None, 0, 0, params),
        lambda params: ext.Callback(params, None, print, print),
    ],
    ids=["Func", "Callback"],
)
def test_the_shapes_read_with_are_the_ones_kept_alive(make: Callable[[Any], Any]) -> None:
    """Params are walked once: a second walk (a generator, a changing sequence) must not
    leave the C pointers on Shapes nothing holds (a use after free on the next call)."""
    first = ext.Shape(("string",))
    rounds = iter([[first], [ext.Shape(("u64",))]])

    class Changing:
        def __iter__(self) -> Iterator[Any]:
            return iter(next(rounds))

    before = sys.getrefcount(first)
    made = make(Changing())
    assert before + 1 == sys.getrefcount(first)
    del made


def test_a_host_function_dropped_by_its_own_body_lives_until_the_call_returns() -> None:
    """Now that it is collectable, only the trampoline's own reference keeps it for the call."""
    holder: list[fc.HostFunc] = []

    class Collects:  # a list<string> whose iteration runs the collector mid-write
        def __iter__(self) -> Iterator[str]:
            gc.collect()
            return iter(["a", "b"])

    def body() -> Any:
        holder.clear()  # the host goes: nothing but wasmtime's pointer is left
        return Collects()

    holder.append(fc.HostFunc([], ("list", ("string",)), body, print, print, compiled=True))
    address, data, gone = holder[0].address, holder[0].data, weakref.ref(holder[0])
    with rust_owned() as result:
        assert 0 == fc.CALLBACK(address)(data, None, None, None, 0, result, 1)
        assert (fv.K_LIST, [(fv.K_STRING, b"a"), (fv.K_STRING, b"b")]) == dump(result)
    gc.collect()
    assert gone() is None
