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

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RESERVATION = 4 << 30
_MAPS = Path("/proc/self/maps")
_INSTANTIATING = threading.Lock()
_LINE = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) (...)", re.MULTILINE)
"""A map line's start, end and read, write, execute letters."""


def linear_memories(maps: bytes | str | None = None) -> dict[int, int]:
    """``{base address: accessible bytes}`` of every wasm linear memory in the process.

    Runs on every instantiation, holding the GIL, over a map of thousands of
    lines in a busy engine: the bytes are read undecoded and each line is
    split by one compiled pattern (a neighbour's latency paid ~3 ms a read
    for ``str.split`` on every line).
    """
    if maps is None:
        try:
            maps = _MAPS.read_bytes()
        except OSError:
            return {}
    elif isinstance(maps, str):
        maps = maps.encode()
    found: dict[int, int] = {}
    run_start, run_bytes, last_end = -1, 0, -1
    for first, last, perms in _LINE.findall(maps):
        start, end = int(first, 16), int(last, 16)
        if start != last_end:
            run_start, run_bytes = -1, 0
        if perms.startswith(b"rw"):
            if run_start < 0:
                run_start = start
            run_bytes += end - start
        else:
            if perms == b"---" and run_start >= 0 and run_bytes + (end - start) >= RESERVATION:
                found[run_start] = run_bytes
            run_start, run_bytes = -1, 0
        last_end = end
    return found


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
