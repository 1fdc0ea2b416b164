"""cove._engine._recent: the newest journal entries, read by runners without SQLite."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cove._engine._recent import RecentJournal
from cove._events import Custom, Event
from cove._store._base import JournalEntry


def entries(first: int, count: int) -> list[JournalEntry]:
    return [
        JournalEntry(seq, Event(Custom("e", "", ""), id=f"e{seq}"))
        for seq in range(first, first + count)
    ]


def seqs(found: list[JournalEntry] | None) -> list[int] | None:
    return None if found is None else [e.seq for e in found]


def test_reads_are_slices_of_what_was_added() -> None:
    """Entries after a seq, up to the limit; None before the first held or past the newest."""
    recent = RecentJournal(100)
    recent.add(entries(5, 3))
    recent.add(entries(8, 2))
    assert [6, 7, 8] == seqs(recent.read(5, 3))
    assert [9] == seqs(recent.read(8, 10))
    assert recent.read(3, 10) is None
    assert recent.read(9, 10) is None
    assert 10 == recent.next_seq


def test_a_gap_starts_the_list_again_at_the_new_entries() -> None:
    """Entries journaled elsewhere in between: older ones are read from the store."""
    recent = RecentJournal(100)
    recent.add(entries(1, 3))
    recent.add(entries(6, 2))
    assert recent.read(1, 10) is None
    assert [6, 7] == seqs(recent.read(5, 10))


def test_the_oldest_entries_go_past_the_capacity() -> None:
    """At most ``capacity`` entries are held, the newest ones; past it a quarter more goes."""
    recent = RecentJournal(4)
    recent.add(entries(1, 3))
    recent.add(entries(4, 3))
    assert 3 == len(recent)
    assert recent.read(2, 10) is None
    assert [4, 5, 6] == seqs(recent.read(3, 10))


def test_a_full_list_is_trimmed_a_quarter_at_a_time_not_on_every_add() -> None:
    """Deleting the oldest entry on each add moved the whole list (20,000 pointers in the
    engine) once per journaled webhook; trimming a quarter at once moves it once per quarter."""
    recent = RecentJournal(100)
    for seq in range(1, 101):
        recent.add(entries(seq, 1))
    assert 100 == len(recent)
    recent.add(entries(101, 1))
    assert 75 == len(recent)
    for seq in range(102, 127):
        recent.add(entries(seq, 1))
    assert 100 == len(recent)
    assert [126] == seqs(recent.read(125, 10))
    assert [27] == seqs(recent.read(26, 1))


@given(st.lists(st.integers(min_value=1, max_value=20), max_size=12), st.integers(1, 30))
def test_whatever_is_read_is_the_consecutive_run_after_the_position(
    sizes: list[int], capacity: int
) -> None:
    """Any read returns consecutive entries starting right after the asked seq."""
    recent = RecentJournal(capacity)
    seq = 1
    for size in sizes:
        recent.add(entries(seq, size))
        seq += size
    for after in range(seq + 1):
        found = seqs(recent.read(after, 7))
        if found is not None:
            assert list(range(after + 1, after + 1 + len(found))) == found
            assert 1 <= len(found) <= 7
