"""How much wasm linear memory a module's instances use, read from the kernel's map of us.

Why not ask wasmtime: wasmtime-py 50 and its C API expose no memory of a
component instance (a component exports none, and the core instances inside
it are out of reach), and a custom memory creator would turn off wasmtime's
copy-on-write memory images, so every instantiation would copy the guest's
data segments (~11 MiB for a Python guest). On 64-bit Linux wasmtime
reserves each linear memory as one region of at least 4 GiB: the accessible
prefix is the memory's current size, then inaccessible pages. A memory is
therefore a run of adjacent read-write mappings right before an
inaccessible one, together spanning at least ``RESERVATION``; its base is
the run's start and never moves. A wasm memory never shrinks, so an
instance's current size is its high-water mark.

Each module's host notes which bases appear while it instantiates (one lock
for all: two instantiations at once could not be told apart) and reads the
sizes only when asked (metrics scrape, status), so the event path pays
nothing. Where there is no ``/proc/self/maps`` the sizes are unknown and
reported as 0.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RESERVATION = 4 << 30
_MAPS = Path("/proc/self/maps")
_INSTANTIATING = threading.Lock()


def linear_memories(maps: bytes | str | None = None) -> dict[int, int]:
    """``{base address: accessible bytes}`` of every wasm linear memory in the process.

    Runs twice on every instantiation (a hibernated module's wake too), holding
    the GIL, over a map of hundreds to thousands of lines: only the inaccessible
    mappings are looked for (``bytes.find``), and from each the read-write run
    right before it is walked back. Splitting every line by a pattern instead
    cost ~1.5 ms a read in a loaded engine, 3 ms of each ~5 ms wake.
    """
    if maps is None:
        try:
            maps = _MAPS.read_bytes()
        except OSError:
            return {}
    elif isinstance(maps, str):
        maps = maps.encode()
    found: dict[int, int] = {}
    at = maps.find(b" ---")
    while at >= 0:
        head = maps.rfind(b"\n", 0, at) + 1
        span = maps[head:at]
        if b" " not in span:  # the permissions field, not part of a path
            start, end = _addresses(span)
            base, size = _read_write_run(maps, head, start)
            if size and size + end - start >= RESERVATION:
                found[base] = size
        at = maps.find(b" ---", at + 4)
    return found


def _addresses(span: bytes) -> tuple[int, int]:
    first, _, last = span.partition(b"-")
    return int(first, 16), int(last, 16)


def _read_write_run(maps: bytes, head: int, end: int) -> tuple[int, int]:
    """The adjacent read-write mappings ending at ``end``, the line at ``head`` on:
    (their start, their bytes); (-1, 0) when the line before is not one."""
    base, size = -1, 0
    while head > 0:
        previous = maps.rfind(b"\n", 0, head - 1) + 1
        span, _, rest = maps[previous : head - 1].partition(b" ")
        if not rest.startswith(b"rw"):
            break
        start, stop = _addresses(span)
        if stop != end:
            break
        base, size, end, head = start, size + stop - start, start, previous
    return base, size


class MemoryWatch:
    """The linear memories of one module's current instance and the largest seen."""

    def __init__(self) -> None:
        self._bases: frozenset[int] = frozenset()
        self._high_water = 0

    @contextmanager
    def instantiating(self) -> Iterator[None]:
        """Wrap an instantiation: the memories that appear during it are the new instance's."""
        with _INSTANTIATING:
            before = linear_memories()
            self.high_water(before)  # the instance being replaced, while still mapped
            yield
            self._bases = frozenset(linear_memories()) - frozenset(before)

    def high_water(self, sizes: dict[int, int] | None = None) -> int:
        """Bytes: the largest total linear memory of any instance so far."""
        if sizes is None:
            sizes = linear_memories()
        current = sum(sizes.get(base, 0) for base in self._bases)
        self._high_water = max(self._high_water, current)
        return self._high_water
