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

Which bases are whose is kept in one ``MemoryLedger`` for the process: the
bases some instance owns (or that were there before the first
instantiation). A read after an instantiation finds the new instance's
memories: the bases not owned yet. Instantiations take turns (one lock for
all: two at once could not be told apart), and that read is deferred to a
background thread, so a hibernated module's wake runs its first calls
meanwhile (it was two reads, ~4 ms of a ~10 ms wake, on the wake's own
thread); an instantiation that comes before the read ran makes it first.
An instance's store is closed under the same lock, and its bases are
forgotten then, so an address the allocator hands out again is the new
instance's. Memories made outside any instantiation (not by cove) count for
the next module to instantiate. The sizes are read only when asked (metrics
scrape, status), so the event path pays nothing; an instance's release
(a hibernation, a trap) notes its peak by probing its known bases
(``_memory_probe``), not by a read. Where there is no ``/proc/self/maps`` the sizes are unknown and
reported as 0.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import structlog

from ._memory_probe import accessible_bytes

RESERVATION = 4 << 30
_MAPS = Path("/proc/self/maps")
Sizes = dict[int, int]
"""``{base address: accessible bytes}``"""
Job = Callable[[], None]

log = structlog.get_logger("cove.wasm")


def linear_memories(maps: bytes | str | None = None) -> dict[int, int]:
    """``{base address: accessible bytes}`` of every wasm linear memory in the process.

    Runs once after every instantiation (on a background thread) and at every
    release, holding the GIL, over a map of hundreds to thousands of lines: only the inaccessible
    mappings are looked for (``bytes.find``), and from each the read-write run
    right before it is walked back. Splitting every line by a pattern instead
    cost ~1.5 ms a read in a loaded engine.
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


class _Background:
    """One daemon thread that runs the jobs it is handed, in order; started on first use."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job] | None = None
        self._starting = threading.Lock()

    def __call__(self, job: Job) -> None:
        if self._jobs is None:
            with self._starting:
                if self._jobs is None:
                    jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
                    threading.Thread(
                        target=_run, args=(jobs,), name="cove-memory-watch", daemon=True
                    ).start()
                    self._jobs = jobs
        self._jobs.put(job)


def _run(jobs: queue.SimpleQueue[Job]) -> None:
    while True:
        job = jobs.get()
        try:
            job()
        except Exception as exc:  # a bug here must not end the reads for good
            log.warning("memory watch read failed", error=f"{type(exc).__name__}: {exc}")


class MemoryLedger:
    """Which linear memories in the process are whose (see the module's docstring).

    ``read``: the process's memories (``linear_memories``); ``later``: runs the
    read due after an instantiation (a background thread; tests run it by hand);
    ``probe``: the size of the memory at a known base, without a read
    (``_memory_probe``; None: the map is read).
    """

    def __init__(
        self,
        read: Callable[[], Sizes] | None = None,
        later: Callable[[Job], None] | None = None,
        probe: Callable[[int, int], int | None] | None = None,
    ) -> None:
        self._read = read
        self._probe = probe
        self._later = _Background() if later is None else later
        self._lock = threading.Lock()
        self._owners: dict[int, weakref.ref[MemoryWatch] | None] | None = None
        """Base -> the watch whose instance owns it (None: there before the first
        instantiation); the dict is None until that first read."""
        self._due: MemoryWatch | None = None
        """Instantiated since the last read: its memories are still to be found."""

    def read(self) -> Sizes:
        return linear_memories() if self._read is None else self._read()

    def sizes_of(self, bases: frozenset[int]) -> Sizes:
        """The sizes of the memories at ``bases``: probed, else read from the map."""
        if self._probe is not None:
            sizes = {base: self._probe(base, RESERVATION) for base in bases}
            if None not in sizes.values():
                return {base: size or 0 for base, size in sizes.items()}
        return self.read()

    @contextmanager
    def instantiating(self, watch: MemoryWatch) -> Iterator[None]:
        """Wrap one instantiation: what it maps is ``watch``'s, found by a read made later."""
        with self._lock:
            self._settle()
            if self._owners is None:
                self._owners = dict.fromkeys(self.read())
            try:
                yield
            finally:  # a failed one too: its store holds what it mapped until closed
                self._due = watch
        self._later(self.settle)

    def settle(self, watch: MemoryWatch | None = None, wait: bool = False) -> None:
        """Make the read still due now (when given: only if it is ``watch``'s). ``wait``:
        also let a read under way on the background thread end first (it may be
        ``watch``'s: a release must see the bases it finds)."""
        if watch is not None and not wait and self._due is not watch:
            return
        with self._lock:
            if watch is None or self._due is watch:
                self._settle()

    def close(self, bases: frozenset[int], close: Job) -> None:
        """Run ``close`` (the memories at ``bases`` are unmapped), then forget them."""
        with self._lock:
            try:
                close()
            finally:
                owners = self._owners or {}
                for base in bases:
                    owners.pop(base, None)

    def _settle(self) -> None:
        watch, self._due = self._due, None
        if watch is None:
            return
        sizes = self.read()
        owners = self._owners
        assert owners is not None  # read before the first instantiation
        for base in owners.keys() - sizes.keys():
            del owners[base]  # unmapped: whoever had it, the address is free
        new = frozenset(b for b in sizes if b not in owners or not _claims(owners[b], b))
        for base in new:
            owners[base] = weakref.ref(watch)
        watch.found(new, sizes)


def _claims(owner: weakref.ref[MemoryWatch] | None, base: int) -> bool:
    """Whether a mapped base is still someone's: there before the first instantiation
    (None), or its watch is alive and has it. A watch collected without a release (a
    host left unclosed) claims nothing: its store went with it, and the address may be
    handed out again."""
    if owner is None:
        return True
    watch = owner()
    return watch is not None and base in watch._bases


LEDGER = MemoryLedger(probe=accessible_bytes)
"""The process's."""


class MemoryWatch:
    """The linear memories of one module's current instance and the largest seen."""

    def __init__(self, ledger: MemoryLedger = LEDGER) -> None:
        self._ledger = ledger
        self._bases: frozenset[int] = frozenset()
        self._high_water = 0

    def instantiating(self) -> AbstractContextManager[None]:
        """Wrap an instantiation: the memories that appear during it are the new instance's."""
        return self._ledger.instantiating(self)

    def found(self, bases: frozenset[int], sizes: Sizes) -> None:
        """The ledger's read: ``bases`` are the current instance's."""
        self._bases = bases
        self._note(sizes)

    def release(self, close: Job) -> None:
        """The instance goes: its peak is noted while still mapped, then ``close`` frees it."""
        self._ledger.settle(self, wait=True)
        self._note(self._ledger.sizes_of(self._bases))
        bases, self._bases = self._bases, frozenset()
        self._ledger.close(bases, close)

    def high_water(self, sizes: Sizes | None = None) -> int:
        """Bytes: the largest total linear memory of any instance so far."""
        self._ledger.settle(self)
        return self._note(self._ledger.read() if sizes is None else sizes)

    def _note(self, sizes: Sizes) -> int:
        current = sum(sizes.get(base, 0) for base in self._bases)
        self._high_water = max(self._high_water, current)
        return self._high_water
