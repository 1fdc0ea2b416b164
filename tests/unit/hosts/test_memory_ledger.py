"""Whose wasm memory is whose: the map read that attributes an instance's memories is
made after its instantiation, off the instantiating thread (a hibernated module's wake)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

import pytest

from cove._hosts._linear_memory import MemoryLedger, MemoryWatch

MiB = 1 << 20
A, B, C = 0x7F0000000000, 0x7F1000000000, 0x7F2000000000


class FakeMaps:
    """The process's linear memories as a dict, and which threads read them."""

    def __init__(self, **mapped: int) -> None:
        self.mapped = {int(k[1:], 16): v for k, v in mapped.items()}
        self.readers: list[int] = []

    def unmap(self, base: int) -> None:
        del self.mapped[base]

    def read(self) -> dict[int, int]:
        self.readers.append(threading.get_ident())
        return dict(self.mapped)


def manual() -> tuple[MemoryLedger, FakeMaps, list[Callable[[], None]]]:
    """A ledger whose deferred reads wait in a list until the test runs them."""
    maps = FakeMaps()
    due: list[Callable[[], None]] = []
    return MemoryLedger(maps.read, due.append), maps, due


def instantiate(watch: MemoryWatch, maps: FakeMaps, base: int, size: int) -> None:
    with watch.instantiating():
        maps.mapped[base] = size


def test_an_instantiation_reads_no_map_on_its_own_thread() -> None:
    """The read that finds the new instance's memories runs on another thread."""
    maps = FakeMaps()
    ledger = MemoryLedger(maps.read)
    first, woken = MemoryWatch(ledger), MemoryWatch(ledger)
    instantiate(first, maps, A, MiB)  # the very first one also notes what was there before
    deadline = time.monotonic() + 5
    while first.high_water() == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    maps.readers.clear()
    instantiate(woken, maps, B, 2 * MiB)
    assert threading.get_ident() not in maps.readers
    while woken.high_water({B: 2 * MiB}) == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert (MiB, 2 * MiB) == (first.high_water({A: MiB}), woken.high_water({B: 2 * MiB}))


def test_memories_there_before_the_first_instantiation_are_nobodys() -> None:
    ledger, maps, due = manual()
    maps.mapped[C] = 5 * MiB
    watch = MemoryWatch(ledger)
    instantiate(watch, maps, A, MiB)
    due.pop()()
    assert MiB == watch.high_water(maps.read())


def test_a_read_still_due_is_made_before_the_next_instantiation() -> None:
    """Two instantiations are never in one read: the second settles the first's."""
    ledger, maps, due = manual()
    first, second = MemoryWatch(ledger), MemoryWatch(ledger)
    instantiate(first, maps, A, MiB)
    instantiate(second, maps, B, 3 * MiB)  # the first's deferred read has not run
    for read in due:
        read()  # nothing left to settle by now
    sizes = maps.read()
    assert (MiB, 3 * MiB) == (first.high_water(sizes), second.high_water(sizes))


def test_an_address_freed_and_mapped_again_is_the_new_instances() -> None:
    ledger, maps, due = manual()
    old, new = MemoryWatch(ledger), MemoryWatch(ledger)
    instantiate(old, maps, A, 3 * MiB)
    due.pop()()
    old.release(lambda: maps.unmap(A))
    instantiate(new, maps, A, MiB // 16)  # the allocator hands out the same address
    due.pop()()
    sizes = maps.read()
    assert (3 * MiB, MiB // 16) == (old.high_water(sizes), new.high_water(sizes))


def test_a_released_instance_keeps_its_peak_and_the_next_starts_small() -> None:
    """Replaced after a trap: the old one's peak is noted as it goes."""
    ledger, maps, due = manual()
    watch = MemoryWatch(ledger)
    instantiate(watch, maps, A, MiB)
    due.pop()()
    maps.mapped[A] = 3 * MiB  # it grew, then trapped
    watch.release(lambda: maps.unmap(A))
    instantiate(watch, maps, B, MiB // 16)
    due.pop()()
    assert 3 * MiB == watch.high_water(maps.read())


def test_a_release_before_the_deferred_read_still_counts_the_instance() -> None:
    """Trapped during its first call, before the background read ran."""
    ledger, maps, due = manual()
    watch, other = MemoryWatch(ledger), MemoryWatch(ledger)
    instantiate(watch, maps, A, 2 * MiB)
    watch.release(lambda: maps.unmap(A))
    for read in due:
        read()
    instantiate(other, maps, B, MiB)
    due.pop()()
    assert (2 * MiB, MiB) == (watch.high_water(maps.read()), other.high_water(maps.read()))


def test_a_failed_instantiation_owns_what_it_mapped() -> None:
    """Its store holds them until it is closed: the next module is not billed for them."""
    ledger, maps, due = manual()
    failed, next_one = MemoryWatch(ledger), MemoryWatch(ledger)
    with pytest.raises(RuntimeError), failed.instantiating():
        maps.mapped[A] = MiB
        raise RuntimeError("instantiation trapped")
    instantiate(next_one, maps, B, 2 * MiB)
    for read in due:
        read()
    sizes = maps.read()
    assert (MiB, 2 * MiB) == (failed.high_water(sizes), next_one.high_water(sizes))


def test_status_asks_before_the_deferred_read_ran() -> None:
    """``high_water`` makes the read still due for its own instance (a fresh one)."""
    ledger, maps, _due = manual()
    watch = MemoryWatch(ledger)
    instantiate(watch, maps, A, MiB)
    assert MiB == watch.high_water({})


def test_an_address_of_a_host_dropped_unclosed_is_the_next_instances() -> None:
    """A host left unclosed (a call that outlived the stop's grace, then collected) never
    told the ledger its memory went: the address is free again once its watch is gone."""
    ledger, maps, due = manual()
    dropped = MemoryWatch(ledger)
    instantiate(dropped, maps, A, MiB)
    due.pop()()
    del dropped
    gc.collect()
    maps.unmap(A)  # its store went with it
    new = MemoryWatch(ledger)
    instantiate(new, maps, A, 2 * MiB)
    due.pop()()
    assert 2 * MiB == new.high_water(maps.read())


def test_a_release_during_the_deferred_read_waits_for_it_and_frees_the_address() -> None:
    """An instance that traps at once (a tiered module's first event on the optimized
    code): its release meets the background read under way. It must wait for it, or the
    watch keeps the base for good and the next instance mapped there is nobody's."""
    maps = FakeMaps()
    reading, go_on = threading.Event(), threading.Event()
    reads = 0

    def slow_read() -> dict[int, int]:
        nonlocal reads
        reads += 1
        if reads == 2:  # the deferred read after the instantiation (1: the first seeding)
            reading.set()
            go_on.wait(5)
        return maps.read()

    ledger = MemoryLedger(slow_read, lambda job: threading.Thread(target=job).start())
    trapped, next_one = MemoryWatch(ledger), MemoryWatch(ledger)
    instantiate(trapped, maps, A, 3 * MiB)
    assert reading.wait(5)
    threading.Timer(0.1, go_on.set).start()
    trapped.release(lambda: maps.unmap(A))
    assert 3 * MiB == trapped.high_water({})
    assert frozenset() == trapped._bases
    instantiate(next_one, maps, A, MiB)  # the allocator hands the address out again
    ledger.settle()
    assert MiB == next_one.high_water(maps.read())
