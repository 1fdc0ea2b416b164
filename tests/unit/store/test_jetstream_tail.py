"""The JetStream journal's tail: what its subscription delivered answers reads locally, and
says when it cannot (older than it holds, or a silent subscription)."""

from __future__ import annotations

import time

from cove import Custom, Event
from cove._store._base import JournalEntry
from cove._store._jetstream_tail import Tail


def _entry(seq: int) -> JournalEntry:
    return JournalEntry(seq, Event(Custom("t", "", ""), id=f"e{seq}"))


def _seqs(entries: list[JournalEntry] | None) -> list[int] | None:
    return None if entries is None else [e.seq for e in entries]


def test_reads_inside_the_tail_are_slices() -> None:
    tail = Tail(100)
    assert tail.read(0, 10) is None, "nothing delivered yet: ask the server"
    tail.start(10)
    for seq in (11, 12, 14):  # 13 was purged: the stream skips it
        tail.add(_entry(seq))
    assert [11, 12] == _seqs(tail.read(10, 2))
    assert [14] == _seqs(tail.read(12, 10))
    assert [] == _seqs(tail.read(14, 10)), "past the end: more wakes the modules"
    assert tail.read(9, 10) is None, "older than the subscription's start"
    assert 14 == tail.last


def test_a_redelivery_after_a_consumer_reset_is_ignored() -> None:
    tail = Tail(100)
    tail.start(0)
    for seq in (1, 2, 2, 1, 3):
        tail.add(_entry(seq))
    assert [1, 2, 3] == _seqs(tail.read(0, 10))


def test_the_oldest_go_past_capacity() -> None:
    tail = Tail(3)
    tail.start(0)
    for seq in range(1, 6):
        tail.add(_entry(seq))
    assert tail.read(1, 10) is None
    assert [3, 4, 5] == _seqs(tail.read(2, 10))


def test_a_silent_subscription_sends_reads_past_its_end_to_the_server() -> None:
    tail = Tail(100, stale_s=0.05)
    tail.start(0)
    tail.add(_entry(1))
    assert [] == _seqs(tail.read(1, 10))
    time.sleep(0.1)
    assert tail.read(1, 10) is None, "maybe the subscription is gone: ask the server"
    assert [1] == _seqs(tail.read(0, 10)), "what it holds it still answers"


def test_purged_entries_are_forgotten() -> None:
    tail = Tail(100)
    tail.start(0)
    for seq in range(1, 6):
        tail.add(_entry(seq))
    tail.forget(3)
    assert tail.read(2, 10) is None
    assert [4, 5] == _seqs(tail.read(3, 10))
