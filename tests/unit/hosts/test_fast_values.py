"""Fast-path values: every shape cove writes survives a clone into Rust memory."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cove._capabilities._bounds import clip
from cove._hosts import _fast_call as fc
from cove._hosts import _fast_host as fh
from cove._hosts import _fast_readers as fr
from cove._hosts import _fast_values as fv
from cove._hosts._call_path import CallPath

pytestmark = pytest.mark.skipif(fc.UNAVAILABLE is not None, reason=str(fc.UNAVAILABLE))


def clone_and_read(ty: fv.Type, value: Any) -> Any:
    """Write ``value``, deep-copy it into Rust-owned memory, read that back, free it."""
    arena = fv.Arena(64)  # tiny: every value here makes the arena grow and start over
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    fc._val_clone(arena.encode(fv.writer(ty), value), ctypes.addressof(slot))
    try:
        return fr.reader(ty)(bytes(slot), 0)
    finally:
        fc._val_delete(ctypes.addressof(slot))


@pytest.mark.parametrize(
    ("ty", "value"),
    [
        (fh.S, "ünïcode ✓"),
        (fh.S, ""),
        (fh.B, bytes(range(256)) * 40),
        (fh.B, b""),
        (("list", fh.S), ["a", "", "c" * 1000]),
        (fh.HEADERS, [("content-type", "text/plain"), ("x", "")]),
        (fh.REQUEST, ("POST", "https://x.test/", [("a", "b")], b"body")),
        (("enum", fh.LEVELS), "warn"),
    ],
)  # fmt: skip
def test_written_values_read_back_after_a_clone(ty: fv.Type, value: Any) -> None:
    expected = tuple(value) if ty[0] == "record" else value
    assert expected == clone_and_read(ty, value)


@pytest.mark.parametrize(
    "value",
    [True, -(2**63), 2.5, "text", ["a", 1, False, 0.25], []],
)
def test_config_values_clone_as_the_wit_variant(value: Any) -> None:
    ty: fv.Type = ("option", fh.CONFIG_VALUE)
    arena = fv.Arena()
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    fc._val_clone(arena.encode(fv.writer(ty), fh.config_value(value)), ctypes.addressof(slot))
    try:
        assert fv.K_OPTION == bytes(slot)[0]
    finally:
        fc._val_delete(ctypes.addressof(slot))


def test_a_config_value_without_a_wit_form_is_refused() -> None:
    with pytest.raises(TypeError):
        fh.config_value({"nested": "table"})


def test_a_reader_refuses_a_value_of_another_kind() -> None:
    """A guest importing `get: func(key: u32)` must not make us follow a bogus pointer."""
    arena = fv.Arena()
    arena.encode(fv.writer(("u32",)), 7)
    with pytest.raises(TypeError):
        fr.reader(fh.S)(arena.mem[: fv.VAL_SIZE].tobytes(), 0)


def test_strings_that_are_not_utf8_are_refused_before_reaching_rust() -> None:
    with pytest.raises(UnicodeEncodeError):
        fv.Arena().encode(fv.writer(fh.S), "\udcff")


def test_a_call_path_is_picked_by_name() -> None:
    """``fast`` is the C extension where it is usable; ``ctypes`` is always ctypes."""
    assert fc.COMPILED == CallPath.named("fast").compiled
    assert not CallPath.named("ctypes").compiled


class FakeHost:
    """What ``host_functions`` needs from ``WasmModuleHost``: the current calls."""

    def __init__(self, calls: Any) -> None:
        self.calls = calls
        self.parked: list[BaseException] = []

    def _current(self) -> Any:
        return self.calls

    def _park(self, exc: BaseException) -> None:
        self.parked.append(exc)

    def _log(self, _store: Any, level: str, message: str, fields: Any) -> None:
        self.calls.logged.append((level, message, list(fields)))

    def _config_get(self, key: str) -> Any:
        return self.calls.config.get(key)

    def _config_keys(self) -> list[str]:
        return sorted(self.calls.config)


class FakeCalls:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {"a": b"1"}
        self.config: dict[str, Any] = {"n": 3, "tags": ["x", True]}
        self.logged: list[Any] = []

    def store_get_many(self, keys: list[str]) -> list[bytes | None]:
        return [self.data.get(k) for k in keys]

    def store_set_many(self, entries: list[tuple[str, bytes]]) -> None:
        self.data.update(entries)

    def store_delete(self, key: str) -> None:
        from cove.errors import HostCallError

        if key not in self.data:
            raise HostCallError("not-found", f"no {key}")
        del self.data[key]

    def store_list_keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.data if k.startswith(prefix))

    def store_set(self, key: str, value: bytes) -> None:
        raise RuntimeError("backend down")


def wasmtime_calls(func: fc.HostFunc, args: int, nargs: int, result: int) -> int:
    """Enter a host function the way wasmtime does: its address, with its data."""
    return int(fc.CALLBACK(func.address)(func.data, None, None, args, nargs, result, 1))


def call_host(func: fc.HostFunc, params: list[fv.Type], args: list[Any]) -> bytes:
    """Call a host function the way wasmtime does: Rust-owned args, a result slot."""
    slots = (ctypes.c_char * (fv.VAL_SIZE * max(len(args), 1)))()
    result = (ctypes.c_char * fv.VAL_SIZE)()
    arena = fv.Arena()
    base = ctypes.addressof(slots)
    for i, (ty, value) in enumerate(zip(params, args, strict=True)):
        fc._val_clone(arena.encode(fv.writer(ty), value), base + i * fv.VAL_SIZE)
    try:
        status = wasmtime_calls(func, base, len(args), ctypes.addressof(result))
        assert 0 == status
        return bytes(result)
    finally:
        for i in range(len(args)):
            fc._val_delete(base + i * fv.VAL_SIZE)
        fc._val_delete(ctypes.addressof(result))


def test_store_functions_read_rust_owned_args_and_answer_results(
    fast_impl: CallPath,
) -> None:
    calls = FakeCalls()
    host = FakeHost(calls)
    funcs = fh.host_functions(host, fast_impl)  # type: ignore[arg-type]
    ok = fv._RESULT.unpack_from
    assert ok(call_host(funcs["store"]["get-many"], [("list", fh.S)], [["a", "zz"]]), 0)[1]
    entries = ("list", ("tuple", [fh.S, fh.B]))
    raw = call_host(funcs["store"]["set-many"], [entries], [[("b", b"2"), ("c", b"")]])
    assert ok(raw, 0)[1] and {"a": b"1", "b": b"2", "c": b""} == calls.data
    assert ok(call_host(funcs["store"]["list-keys"], [fh.S], ["b"]), 0)[1]
    assert ok(call_host(funcs["store"]["delete"], [fh.S], ["b"]), 0)[1]
    assert not ok(call_host(funcs["store"]["delete"], [fh.S], ["b"]), 0)[1]  # not-found
    # Any other exception: host-error internal, not a trap.
    assert not ok(call_host(funcs["store"]["set"], [fh.S, fh.B], ["k", b"v"]), 0)[1]
    assert [] == host.parked
    assert fv.K_OPTION == call_host(funcs["config"]["get"], [fh.S], ["tags"])[0]
    assert fv.K_LIST == call_host(funcs["config"]["keys"], [], [])[0]


def test_an_import_of_another_type_traps_instead_of_misreading(fast_impl: CallPath) -> None:
    host = FakeHost(FakeCalls())
    get = fh.host_functions(host, fast_impl)["store"]["get"]  # type: ignore[arg-type]
    slots = (ctypes.c_char * fv.VAL_SIZE)()
    arena = fv.Arena()
    fc._val_clone(arena.encode(fv.writer(("u32",)), 7), ctypes.addressof(slots))
    result = (ctypes.c_char * fv.VAL_SIZE)()
    trap = wasmtime_calls(get, ctypes.addressof(slots), 1, ctypes.addressof(result))
    assert trap != 0 and isinstance(host.parked[0], TypeError)
    import wasmtime
    from wasmtime import _ffi as ffi

    wasmtime.WasmtimeError._from_ptr(ctypes.cast(trap, ctypes.POINTER(ffi.wasmtime_error_t)))


FLAT_RECORDS: list[fv.Type] = [
    fh.EVENT_META,
    ("record", [("a", fh.S), ("b", fh.S), ("c", fh.S)]),
    ("record", [("n", fh.U64), ("s", fh.S), ("m", ("u32",))]),
]


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(FLAT_RECORDS) - 1),
    texts=st.lists(st.text(), min_size=3, max_size=3),
    numbers=st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3),
)
def test_a_flat_record_is_laid_out_as_the_field_by_field_writer_does(
    index: int, texts: list[str], numbers: list[int]
) -> None:
    """The one-pack writer of string/integer records: same bytes, same arena layout."""
    ty = FLAT_RECORDS[index]
    value = tuple(texts[i] if t == fh.S else numbers[i] for i, (_, t) in enumerate(ty[1]))
    general = fv._record_writer([(name, fv.writer(t)) for name, t in ty[1]])
    flat, by_field = fv.Arena(64), fv.Arena(64)
    flat.encode(fv.writer(ty), value)
    by_field.encode(general, value)
    offset = by_field.base - flat.base  # pointers in the two arenas differ by this
    assert flat.top == by_field.top
    assert _rebased(flat, offset) == bytes(by_field.mem[: by_field.top])


def _rebased(arena: fv.Arena, offset: int) -> bytes:
    """Arena bytes with every pointer into it moved by ``offset``."""
    raw = bytearray(arena.mem[: arena.top])
    for at in range(0, len(raw) - 7, 8):
        (word,) = fr._U64.unpack_from(raw, at)
        if arena.base <= word < arena.base + arena.capacity:
            fr._U64.pack_into(raw, at, word + offset)
    return bytes(raw)


def test_a_flat_record_reads_back_after_a_clone() -> None:
    ty: fv.Type = ("record", [("id", fh.S), ("n", fh.U64), ("empty", fh.S)])
    assert ("ëvent-1", 2**64 - 1, "") == clone_and_read(ty, ("ëvent-1", 2**64 - 1, ""))


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),  # as in a Rust string
    st.integers(min_value=0, max_value=12),
)
@settings(max_examples=200)
def test_an_error_text_read_cut_is_the_text_clip_cuts(text: str, limit: int) -> None:
    # ctypes' twin of the C extension's read_clipped: only the kept prefix is decoded.
    encoded = text.encode()
    buffer = ctypes.create_string_buffer(encoded, len(encoded) or 1)
    read = fr._read_clipped(ctypes.addressof(buffer), len(encoded), limit)
    assert read == clip(text, limit)


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=0, max_value=12),
)
@settings(max_examples=200)
def test_a_clipped_string_shape_reads_the_text_clip_cuts_on_both_paths(
    text: str, limit: int
) -> None:
    # A host-call argument declared ("string", limit) is cut as it is read.
    ty: fv.Type = ("string", limit)
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    arena = fv.Arena()  # alive until cloned: the address points into it
    fc._val_clone(arena.encode(fv.writer(ty), text), ctypes.addressof(slot))
    try:
        assert clip(text, limit) == fr.reader(ty)(bytes(slot), 0)
        if fc._EXT is not None:
            assert clip(text, limit) == fc._EXT.Shape(ty).read(ctypes.addressof(slot))
    finally:
        fc._val_delete(ctypes.addressof(slot))


@given(st.text(max_size=40), st.integers(min_value=0, max_value=12))
def test_clip_of_a_clipped_text_is_the_same_text(text: str, limit: int) -> None:
    # A host function that gets an argument already cut by the call path cuts it again.
    assert clip(text, limit) == clip(clip(text, limit), limit)


def test_a_clipped_string_shape_is_the_wit_string() -> None:
    assert fh.S == fv.wit_type(("string", 5))
    assert ("list", ("tuple", [fh.S, fh.S])) == fv.wit_type(
        ("list", ("tuple", [("string", 1), fh.S]))
    )


class TextCalls:
    """A gate whose store answers each 0.3 text call with one outcome."""

    def __init__(self) -> None:
        from cove.errors import HostCallError

        self.error = HostCallError
        self.data: dict[str, bytes] = {"t": "é".encode(), "bin": b"\xff"}

    def store_get(self, key: str) -> bytes:
        if key == "denied":
            raise self.error("denied", "store: reads are not allowed here")
        if key == "boom":
            raise RuntimeError("backend down")
        if key not in self.data:
            raise self.error("not-found", f"store: no key {key!r}")
        return self.data[key]

    def store_set(self, key: str, value: bytes) -> None:
        if key == "full":
            raise self.error("limit-exceeded", "store: over its quota")
        if key == "ro":
            raise self.error("denied", "store: writes are not allowed in init or a hook")
        self.data[key] = value


def test_the_text_calls_answer_every_error_kind_beside_the_value(fast_impl: CallPath) -> None:
    """get-text/set-text turn each refusal into the error value of its kind (a missing key
    into none, an unexpected failure into internal), never a trap."""
    host = FakeHost(TextCalls())
    funcs = fh.host_functions(host, fast_impl)  # type: ignore[arg-type]
    get, set_ = funcs["store"]["get-text"].invoke, funcs["store"]["set-text"].invoke
    assert ("é", None) == get("t")
    assert (None, None) == get("absent")
    assert (None, ("denied", "store: reads are not allowed here")) == get("denied")
    assert "invalid-input" == get("bin")[1][0]
    assert (None, ("internal", "RuntimeError: backend down")) == get("boom")
    assert None is set_("k", "v") and b"v" == host.calls.data["k"]
    assert ("limit-exceeded", "store: over its quota") == set_("full", "v")
    assert "denied" == set_("ro", "v")[0]
    assert [] == host.parked
