"""``wasmtime_component_val_t`` trees read from raw bytes, typed by our WIT (the layout and
the writers are in ``_fast_values``).

Readers decode vals that Rust owns (host-call arguments, export results) and check every
kind byte before following a pointer: an import is typed by the *component*, so a
hostile guest can hand us a u32 where we expect a string; that must be a
``TypeError``, never a read through a bogus pointer.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from typing import Any

from ._fast_values import (
    _NAME,
    _RESULT,
    ENTRY_SIZE,
    ENTRY_VAL,
    K_ENUM,
    K_LIST,
    K_RECORD,
    K_RESULT,
    K_STRING,
    K_TUPLE,
    K_U8,
    K_U64,
    PAYLOAD,
    VAL_SIZE,
    Type,
)

Reader = Callable[[bytes, int], Any]


def _check(raw: bytes, at: int, kind: int) -> None:
    if raw[at] != kind:
        raise TypeError(f"host call argument has kind {raw[at]}, expected {kind}")


def _read_string(raw: bytes, at: int) -> str:
    if raw[at] != K_STRING:  # ``_check`` inlined: every host call reads a string or two
        _check(raw, at, K_STRING)
    size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
    return _string_at(pointer, size).decode() if size else ""


def _read_u64(raw: bytes, at: int) -> int:
    _check(raw, at, K_U64)
    value: int = _U64.unpack_from(raw, at + PAYLOAD)[0]
    return value


_U64 = struct.Struct("<Q")
_string_at: Callable[[int, int], bytes] = getattr(ctypes, "_string_at")  # noqa: B009
"""``ctypes.string_at`` without its Python wrapper frame."""


def _read_bytes(raw: bytes, at: int) -> bytes:
    _check(raw, at, K_LIST)
    size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
    if not size:
        return b""
    items = _string_at(pointer, size * VAL_SIZE)
    if items[::VAL_SIZE] != bytes([K_U8]) * size:
        raise TypeError("host call argument is not a list<u8>")
    return items[PAYLOAD::VAL_SIZE]


def _list_reader(element: Reader) -> Reader:
    def read(raw: bytes, at: int) -> list[Any]:
        _check(raw, at, K_LIST)
        size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
        if not size:
            return []
        items = _string_at(pointer, size * VAL_SIZE)
        return [element(items, i * VAL_SIZE) for i in range(size)]

    return read


def _tuple_reader(elements: list[Reader]) -> Reader:
    count = len(elements)

    def read(raw: bytes, at: int) -> tuple[Any, ...]:
        _check(raw, at, K_TUPLE)
        size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
        if size != count:
            raise TypeError(f"host call argument is not a {count}-tuple")
        items = _string_at(pointer, size * VAL_SIZE)
        return tuple(element(items, i * VAL_SIZE) for i, element in enumerate(elements))

    return read


def _record_reader(fields: list[Reader]) -> Reader:
    count = len(fields)

    def read(raw: bytes, at: int) -> tuple[Any, ...]:
        _check(raw, at, K_RECORD)
        size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
        if size != count:
            raise TypeError(f"host call argument is not a record of {count} fields")
        items = _string_at(pointer, size * ENTRY_SIZE)
        return tuple(field(items, i * ENTRY_SIZE + ENTRY_VAL) for i, field in enumerate(fields))

    return read


def _enum_reader(names: list[str]) -> Reader:
    known = frozenset(names)

    def read(raw: bytes, at: int) -> str:
        _check(raw, at, K_ENUM)
        size, pointer = _NAME.unpack_from(raw, at + PAYLOAD)
        name = _string_at(pointer, size).decode() if size else ""
        if name not in known:
            raise TypeError(f"host call argument: unknown enum case {name!r}")
        return name

    return read


def _result_reader(ok: Reader | None, err: Reader | None) -> Reader:
    """A ``result`` as ``(is_ok, payload)``, the payload behind its pointer (export results)."""

    def read(raw: bytes, at: int) -> tuple[bool, Any]:
        _check(raw, at, K_RESULT)
        is_ok, pointer = _RESULT.unpack_from(raw, at)[1:]
        side = ok if is_ok else err
        if side is None:
            return (is_ok, None)
        if not pointer:
            raise TypeError("result without its payload")
        return (is_ok, side(_string_at(pointer, VAL_SIZE), 0))

    return read


def reader(ty: Type) -> Reader:
    """Compile a WIT type into a reader: host-call arguments, and export results."""
    tag = ty[0]
    if tag == "string":
        return _read_string if len(ty) == 1 else _clipped_reader(ty[1])
    if tag == "bytes":
        return _read_bytes
    if tag == "u64":
        return _read_u64
    if tag == "list":
        return _list_reader(reader(ty[1]))
    if tag == "tuple":
        return _tuple_reader([reader(t) for t in ty[1]])
    if tag == "record":
        return _record_reader([reader(t) for _, t in ty[1]])
    if tag == "enum":
        return _enum_reader(list(ty[1]))
    if tag == "result":
        return _result_reader(*(None if t is None else reader(t) for t in ty[1:]))
    raise TypeError(f"no reader for {tag}")


def read_result_string_error(raw: bytes, limit: int = -1) -> str | None:
    """The ``result<_, string>`` of init/handle (Rust-owned): None for ok, else the text,
    cut to ``limit`` code points as ``_bounds.clip`` cuts it (-1: all)."""
    _check(raw, 0, K_RESULT)
    is_ok, pointer = _RESULT.unpack_from(raw, 0)[1:]
    if is_ok:
        return None
    if not pointer:
        return ""
    val = _string_at(pointer, VAL_SIZE)
    if limit < 0:
        return _read_string(val, 0)
    _check(val, 0, K_STRING)
    size, address = _NAME.unpack_from(val, PAYLOAD)
    return _read_clipped(address, size, limit)


def _clipped_reader(limit: int) -> Reader:
    def read(raw: bytes, at: int) -> str:
        _check(raw, at, K_STRING)
        size, address = _NAME.unpack_from(raw, at + PAYLOAD)
        if size <= limit:  # no more code points than bytes
            return _string_at(address, size).decode() if size else ""
        return _read_clipped(address, size, limit)

    return read


_CONTINUATION = bytes(range(0x80, 0xC0))


def _read_clipped(address: int, size: int, limit: int) -> str:
    # Only the kept prefix (at most 4 bytes a code point) becomes a str; the rest
    # is counted by its lead bytes (Rust's strings are valid UTF-8).
    # A cut inside a code point's bytes is dropped ("ignore"): 4 * limit + 4 bytes
    # still hold more than ``limit`` whole ones.
    head = _string_at(address, min(size, 4 * limit + 4)).decode("utf-8", "ignore")
    if len(head) <= limit:
        return head
    kept = head[:limit]
    at = len(kept.encode())
    rest = _string_at(address + at, size - at)
    # The lead bytes, one per code point; an ASCII rest (checked word by word) is all leads.
    cut = len(rest) if rest.isascii() else len(rest.translate(None, _CONTINUATION))
    return f"{kept}… [{cut} more characters cut]"
