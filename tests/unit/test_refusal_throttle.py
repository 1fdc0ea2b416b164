"""The per-peer throttle of refused requests: a token bucket per address, with a clock we drive."""

from __future__ import annotations

import pytest

from cove._refusals import RefusalThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_refusals_is_answered_at_once_then_each_waits_its_turn() -> None:
    clock = Clock()
    throttle = RefusalThrottle(rate=2.0, burst=3, max_delay=10.0, clock=clock)
    assert [throttle.delay("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [throttle.delay("10.0.0.1") for _ in range(3)] == pytest.approx([0.5, 1.0, 1.5])


def test_the_bucket_refills_at_the_rate() -> None:
    clock = Clock()
    throttle = RefusalThrottle(rate=2.0, burst=2, max_delay=10.0, clock=clock)
    for _ in range(2):
        throttle.delay("10.0.0.1")
    assert throttle.delay("10.0.0.1") == pytest.approx(0.5)
    clock.now += 60  # a minute later the bucket is full again
    assert [throttle.delay("10.0.0.1") for _ in range(2)] == [0.0, 0.0]


def test_one_peers_refusals_never_delay_another_peer() -> None:
    clock = Clock()
    throttle = RefusalThrottle(rate=1.0, burst=1, max_delay=10.0, clock=clock)
    for _ in range(5):
        throttle.delay("10.0.0.1")
    assert throttle.delay("10.0.0.2") == 0.0


def test_a_delay_never_exceeds_the_maximum_and_does_not_pile_up_past_it() -> None:
    clock = Clock()
    throttle = RefusalThrottle(rate=1.0, burst=1, max_delay=2.0, clock=clock)
    delays = [throttle.delay("10.0.0.1") for _ in range(50)]
    assert max(delays) == pytest.approx(2.0)
    clock.now += 3.0  # the parked refusals were answered; the peer is not owed 48 s of waiting
    assert throttle.delay("10.0.0.1") <= 2.0


def test_the_peer_table_stays_bounded() -> None:
    clock = Clock()
    throttle = RefusalThrottle(rate=1.0, burst=1, max_delay=2.0, clock=clock, max_peers=100)
    for i in range(1000):
        throttle.delay(f"10.0.{i // 256}.{i % 256}")
        clock.now += 0.001
    assert throttle.peers <= 100
