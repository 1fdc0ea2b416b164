"""``wasmtime_component_val_t`` trees written and read as raw bytes, typed by our WIT.

Writers lay a value out in an ``Arena``: one Python-owned buffer holding the
val structs, record entries and string bytes, linked by absolute pointers.
Rust only ever *borrows* arena memory (``wasmtime_component_func_call`` copies
its arguments, ``wasmtime_component_val_clone`` deep-copies a host result into
Rust-owned memory), so nothing in an arena is ever freed by the C side.

Readers are in ``_fast_readers``.

Python shapes: string ``str``, ``list<u8>`` ``bytes``, list ``list``, tuple and
record ``tuple`` (fields in WIT order), variant ``(case, payload)``, enum
``str``, option ``None`` or the value, result ``(is_ok, payload)``.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ArenaFull

# Layout of the pinned wasmtime C API (checked against wasmtime-py's ctypes
# declarations at import by ``_fast_call``).
VAL_SIZE = 32  # u8 kind, 7 bytes padding, 24-byte union
PAYLOAD = 8  # offset of the union in a val
ENTRY_SIZE = 48  # record entry: wasm_name_t name (16) + val (32)
ENTRY_VAL = 16

K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64 = range(9)
K_F32, K_F64, K_CHAR, K_STRING, K_LIST, K_RECORD, K_TUPLE, K_VARIANT = range(9, 17)
K_ENUM, K_OPTION, K_RESULT = 17, 18, 19

_VEC = struct.Struct("<B7xQQ")  # kind + (size, data): string, list, record, tuple, enum
_VARIANT = struct.Struct("<B7xQQQ")  # kind + discriminant (size, data) + payload pointer
_PTR = struct.Struct("<B7xQ")  # option
_RESULT = struct.Struct("<B7x?7xQ")
_NAME = struct.Struct("<QQ")
_SCALARS = {
    "bool": (K_BOOL, struct.Struct("<B7x?")),
    "u8": (K_U8, struct.Struct("<B7xB")),
    "u16": (K_U16, struct.Struct("<B7xH")),
    "u32": (K_U32, struct.Struct("<B7xI")),
    "u64": (K_U64, struct.Struct("<B7xQ")),
    "s64": (K_S64, struct.Struct("<B7xq")),
    "f64": (K_F64, struct.Struct("<B7xd")),
}

Writer = Callable[["Arena", Any, int], None]
Type = tuple[Any, ...]
"""A WIT type: ("string",) or ("string", limit) (read cut to ``limit`` characters as
``_bounds.clip`` cuts, only the kept part decoded), ("bytes",), ("list", T), ("tuple", [T..]),
("record", [(name, T)..]), ("variant", [(name, T | None)..]), ("enum", [names]),
("option", T), ("result", T | None, T | None), or a scalar ("u64",) etc."""


class Arena:
    """A reusable Python-owned buffer for one value tree at a time."""

    def __init__(self, capacity: int = 16384) -> None:
        self.top = 0
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.buffer = (ctypes.c_char * capacity)()
        self.mem = memoryview(self.buffer).cast("B")
        self.base = ctypes.addressof(self.buffer)
        self.capacity = capacity

    def take(self, size: int) -> int:
        """Offset of ``size`` fresh bytes (8-aligned)."""
        offset = self.top
        self.top = offset + ((size + 7) & ~7)
        if self.top > self.capacity:
            raise ArenaFull
        return offset

    def encode(self, write: Writer, value: Any) -> int:
        """Write ``value`` as the root val at offset 0; its address."""
        while True:
            self.top = VAL_SIZE
            try:
                write(self, value, 0)
            except ArenaFull:
                self._allocate(max(self.capacity * 2, self.top * 2))
                continue
            return self.base

    def shrink(self) -> None:
        """Give back memory a huge value (say, a big webhook body) grew."""
        if self.capacity > SHRINK_ABOVE:
            self._allocate(16384)


SHRINK_ABOVE = 1 << 22
"""Arena bytes kept between values; callers test it before calling ``shrink``."""


class Names:
    """Static names (record fields, variant cases, enum values) in C memory for good."""

    def __init__(self) -> None:
        self._keep: list[Any] = []
        self._cache: dict[str, tuple[int, int]] = {}

    def __call__(self, name: str) -> tuple[int, int]:
        found = self._cache.get(name)
        if found is None:
            data = name.encode()
            buffer = ctypes.create_string_buffer(data, len(data) or 1)
            self._keep.append(buffer)
            found = self._cache[name] = (len(data), ctypes.addressof(buffer))
        return found


NAMES = Names()


# writers ------------------------------------------------------------------
def _write_string(arena: Arena, value: str, at: int) -> None:
    data = value.encode()  # strict: Rust unwraps from_utf8, so it must be valid UTF-8
    size = len(data)
    pointer = 0
    if size:
        offset = arena.take(size)
        arena.mem[offset : offset + size] = data
        pointer = arena.base + offset
    _VEC.pack_into(arena.mem, at, K_STRING, size, pointer)


def _write_bytes(arena: Arena, value: bytes, at: int) -> None:
    size = len(value)
    pointer = 0
    if size:
        offset = arena.take(size * VAL_SIZE)
        end = offset + size * VAL_SIZE
        arena.mem[offset:end:VAL_SIZE] = _U8_KINDS[:size] if size <= 4096 else bytes([K_U8]) * size
        arena.mem[offset + PAYLOAD : end : VAL_SIZE] = value
        pointer = arena.base + offset
    _VEC.pack_into(arena.mem, at, K_LIST, size, pointer)


_U8_KINDS = bytes([K_U8]) * 4096


def _list_writer(element: Writer) -> Writer:
    def write(arena: Arena, value: Sequence[Any], at: int) -> None:
        size = len(value)
        offset = arena.take(size * VAL_SIZE) if size else 0
        for i, item in enumerate(value):
            element(arena, item, offset + i * VAL_SIZE)
        _VEC.pack_into(arena.mem, at, K_LIST, size, arena.base + offset if size else 0)

    return write


def _tuple_writer(elements: list[Writer]) -> Writer:
    count = len(elements)

    def write(arena: Arena, value: Sequence[Any], at: int) -> None:
        if len(value) != count:
            raise TypeError(f"expected a {count}-tuple")
        offset = arena.take(count * VAL_SIZE)
        for i, (element, item) in enumerate(zip(elements, value, strict=True)):
            element(arena, item, offset + i * VAL_SIZE)
        _VEC.pack_into(arena.mem, at, K_TUPLE, count, arena.base + offset)

    return write


def _record_writer(fields: list[tuple[str, Writer]]) -> Writer:
    count = len(fields)
    size = count * ENTRY_SIZE
    # The entries with their (static) names filled in: one copy per value.
    skeleton = b"".join(_NAME.pack(*NAMES(name)) + bytes(VAL_SIZE) for name, _ in fields)
    placed = [(writer, i * ENTRY_SIZE + ENTRY_VAL) for i, (_, writer) in enumerate(fields)]

    def write(arena: Arena, value: Sequence[Any], at: int) -> None:
        if len(value) != count:
            raise TypeError(f"expected a record of {count} fields")
        offset = arena.take(size)
        arena.mem[offset : offset + size] = skeleton
        for (writer, entry), item in zip(placed, value, strict=True):
            writer(arena, item, offset + entry)
        _VEC.pack_into(arena.mem, at, K_RECORD, count, arena.base + offset)

    return write


_FLAT_FIELDS = {  # a record field's val after its name: kind, payload, padding to 32 bytes
    "string": (K_STRING, "B7xQQ8x"),
    "u64": (K_U64, "B7xQ16x"),
    "u32": (K_U32, "B7xI20x"),
}


def _flat_record_writer(fields: list[tuple[str, Type]]) -> Writer:
    """A record of strings and integers (event meta, most event payloads) in one pack.

    Every event writes two such records; one ``pack_into`` of the whole
    entry block instead of a writer call and a pack per field roughly halved
    the cost of writing an event.
    """
    count = len(fields)
    size = count * ENTRY_SIZE
    layout = struct.Struct("<" + "".join("QQ" + _FLAT_FIELDS[t[0]][1] for _, t in fields))
    assert layout.size == size
    template: list[int] = []  # pack arguments, names and kinds filled in
    strings: list[tuple[int, int]] = []  # (field index, slot of its size; the pointer follows)
    scalars: list[tuple[int, int]] = []  # (field index, slot of its value)
    for i, (name, ty) in enumerate(fields):
        template += [*NAMES(name), _FLAT_FIELDS[ty[0]][0]]
        (strings if ty[0] == "string" else scalars).append((i, len(template)))
        template += [0, 0] if ty[0] == "string" else [0]

    def write(arena: Arena, value: Sequence[Any], at: int) -> None:
        if len(value) != count:
            raise TypeError(f"expected a record of {count} fields")
        offset = arena.take(size)
        args = template.copy()
        for i, slot in scalars:
            args[slot] = value[i]
        for i, slot in strings:
            data = value[i].encode()  # strict, as in ``_write_string``
            length = len(data)
            if length:
                start = arena.take(length)
                arena.mem[start : start + length] = data
                args[slot] = length
                args[slot + 1] = arena.base + start
        layout.pack_into(arena.mem, offset, *args)
        _VEC.pack_into(arena.mem, at, K_RECORD, count, arena.base + offset)

    return write


def _variant_writer(cases: list[tuple[str, Writer | None]]) -> Writer:
    table = {name: (NAMES(name), writer) for name, writer in cases}

    def write(arena: Arena, value: tuple[str, Any], at: int) -> None:
        case, payload = value
        (name_size, name_pointer), writer = table[case]
        pointer = 0
        if writer is not None:
            offset = arena.take(VAL_SIZE)
            writer(arena, payload, offset)
            pointer = arena.base + offset
        _VARIANT.pack_into(arena.mem, at, K_VARIANT, name_size, name_pointer, pointer)

    return write


def _enum_writer(names: list[str]) -> Writer:
    table = {name: NAMES(name) for name in names}

    def write(arena: Arena, value: str, at: int) -> None:
        size, pointer = table[value]
        _VEC.pack_into(arena.mem, at, K_ENUM, size, pointer)

    return write


def _option_writer(inner: Writer) -> Writer:
    def write(arena: Arena, value: Any, at: int) -> None:
        pointer = 0
        if value is not None:
            offset = arena.take(VAL_SIZE)
            inner(arena, value, offset)
            pointer = arena.base + offset
        _PTR.pack_into(arena.mem, at, K_OPTION, pointer)

    return write


def _result_writer(ok: Writer | None, err: Writer | None) -> Writer:
    def write(arena: Arena, value: tuple[bool, Any], at: int) -> None:
        is_ok, payload = value
        writer = ok if is_ok else err
        pointer = 0
        if writer is not None:
            offset = arena.take(VAL_SIZE)
            writer(arena, payload, offset)
            pointer = arena.base + offset
        _RESULT.pack_into(arena.mem, at, K_RESULT, bool(is_ok), pointer)

    return write


def _scalar_writer(name: str) -> Writer:
    kind, layout = _SCALARS[name]

    def write(arena: Arena, value: Any, at: int) -> None:
        layout.pack_into(arena.mem, at, kind, value)

    return write


def writer(ty: Type) -> Writer:
    """Compile a WIT type into a writer (done once per shape, not per value)."""
    tag = ty[0]
    if tag == "string":
        return _write_string
    if tag == "bytes":
        return _write_bytes
    if tag == "list":
        return _list_writer(writer(ty[1]))
    if tag == "tuple":
        return _tuple_writer([writer(t) for t in ty[1]])
    if tag == "record":
        if all(t[0] in _FLAT_FIELDS for _, t in ty[1]):
            return _flat_record_writer(ty[1])
        return _record_writer([(name, writer(t)) for name, t in ty[1]])
    if tag == "variant":
        return _variant_writer([(n, None if t is None else writer(t)) for n, t in ty[1]])
    if tag == "enum":
        return _enum_writer(list(ty[1]))
    if tag == "option":
        return _option_writer(writer(ty[1]))
    if tag == "result":
        return _result_writer(*(None if t is None else writer(t) for t in ty[1:]))
    return _scalar_writer(tag)


def wit_type(ty: Type) -> Type:
    """``ty`` as the WIT has it: every read limit of a string dropped."""
    tag = ty[0]
    if tag == "string":
        return ("string",)
    if tag in ("list", "option"):
        return (tag, wit_type(ty[1]))
    if tag == "tuple":
        return (tag, [wit_type(t) for t in ty[1]])
    if tag in ("record", "variant"):
        return (tag, [(n, None if t is None else wit_type(t)) for n, t in ty[1]])
    if tag == "result":
        return (tag, *(None if t is None else wit_type(t) for t in ty[1:]))
    return ty
