"""The probe that sizes a known linear memory without reading the process's map."""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Callable, Iterator

import pytest

from cove._hosts import _memory_probe
from cove._hosts._linear_memory import RESERVATION, MemoryLedger, MemoryWatch
from cove._hosts._memory_probe import WASM_PAGE, accessible_bytes

PROT_NONE = 0
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]  # fmt: skip
_LIBC.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


@pytest.fixture
def reserve() -> Iterator[Callable[[int], int]]:
    """Memories laid out as wasmtime's: ``pages`` read-write, then inaccessible to the end
    of a 4 GiB reservation (address space only)."""
    made: list[int] = []

    def make(pages: int) -> int:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        base = _LIBC.mmap(None, RESERVATION, PROT_NONE, flags, -1, 0)
        assert base not in (None, ctypes.c_void_p(-1).value)
        made.append(base)
        if pages:
            assert 0 == _LIBC.mprotect(base, pages * WASM_PAGE, mmap.PROT_READ | mmap.PROT_WRITE)
        return int(base)

    yield make
    for base in made:
        _LIBC.munmap(base, RESERVATION)


@pytest.mark.parametrize("pages", [0, 1, 2, 17, 63, 64, 1000])
def test_the_readable_pages_from_the_base_are_its_size(
    reserve: Callable[[int], int], pages: int
) -> None:
    assert pages * WASM_PAGE == accessible_bytes(reserve(pages), RESERVATION)


def test_a_released_instance_is_sized_by_the_probe_not_the_map(
    reserve: Callable[[int], int],
) -> None:
    """The release (a hibernation) reads no map when the probe answers."""
    base = reserve(3)
    mapped: dict[int, int] = {}
    reads: list[int] = []

    def read() -> dict[int, int]:
        reads.append(1)
        return dict(mapped)

    due: list[Callable[[], None]] = []
    watch = MemoryWatch(MemoryLedger(read, due.append, probe=accessible_bytes))
    with watch.instantiating():
        mapped[base] = 3 * WASM_PAGE
    due.pop()()
    reads.clear()
    watch.release(lambda: None)
    assert ([], 3 * WASM_PAGE) == (reads, watch.high_water({}))


def test_where_the_probe_is_refused_the_map_is_read(
    reserve: Callable[[int], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_memory_probe, "_READV", None)
    base = reserve(2)
    assert accessible_bytes(base, RESERVATION) is None
    mapped: dict[int, int] = {}
    watch = MemoryWatch(
        MemoryLedger(lambda: dict(mapped), lambda job: job(), probe=accessible_bytes)
    )
    with watch.instantiating():
        mapped[base] = 2 * WASM_PAGE
    mapped[base] = 3 * WASM_PAGE  # it grew before it went: the map read sees it
    watch.release(lambda: None)
    assert 3 * WASM_PAGE == watch.high_water({})
