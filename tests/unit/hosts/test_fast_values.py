"""Fast-path values: every shape cove writes survives a clone into Rust memory."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from cove._hosts import _fast_call as fc
from cove._hosts import _fast_host as fh
from cove._hosts import _fast_values as fv
from cove._hosts._wasm_host import effective_call_path

pytestmark = pytest.mark.skipif(fc.UNAVAILABLE is not None, reason=str(fc.UNAVAILABLE))


def clone_and_read(ty: fv.Type, value: Any) -> Any:
    """Write ``value``, deep-copy it into Rust-owned memory, read that back, free it."""
    arena = fv.Arena(64)  # tiny: every value here makes the arena grow and start over
    slot = (ctypes.c_char * fv.VAL_SIZE)()
    fc._val_clone(arena.encode(fv.writer(ty), value), ctypes.addressof(slot))
    try:
        return fv.reader(ty)(bytes(slot), 0)
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
        fv.reader(fh.S)(arena.mem[: fv.VAL_SIZE].tobytes(), 0)


def test_strings_that_are_not_utf8_are_refused_before_reaching_rust() -> None:
    with pytest.raises(UnicodeEncodeError):
        fv.Arena().encode(fv.writer(fh.S), "\udcff")


def test_fast_path_unavailable_falls_back_to_the_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fc, "UNAVAILABLE", "layout differs (test)")
    assert "wrapper" == effective_call_path("fast")
    assert "wrapper" == effective_call_path("wrapper")
