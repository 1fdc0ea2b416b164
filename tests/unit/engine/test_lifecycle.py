"""cove._engine._lifecycle.backoff_ms: the restart delay schedule."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._engine._lifecycle import backoff_ms


class MidRandom(random.Random):
    """A Random whose ``uniform`` returns the middle of the range: no jitter."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


class EdgeRandom(random.Random):
    """A Random whose ``uniform`` returns one end of the range."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 1_000), (1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (8, 128_000), (9, 256_000)],
)
def test_delay_doubles_per_failure(failures: int, expected: int) -> None:
    """Without jitter the delay is initial * 2^(failures-1)."""
    assert expected == backoff_ms(failures, 1_000, 10**9, MidRandom())


@pytest.mark.parametrize("failures", [10, 11, 50, 10_000])
def test_delay_is_capped(failures: int) -> None:
    """The delay never passes ``max_ms``, however many failures (no overflow either)."""
    assert 300_000 == backoff_ms(failures, 1_000, 300_000, MidRandom())


def test_jitter_is_twenty_percent_each_way() -> None:
    """The extremes of the jitter are 0.8 and 1.2 times the base delay."""
    assert 800 == backoff_ms(1, 1_000, 10_000, EdgeRandom(high=False))
    assert 1_200 == backoff_ms(1, 1_000, 10_000, EdgeRandom(high=True))


def test_jitter_never_pushes_past_the_cap() -> None:
    """At the cap, upward jitter is cut back to the cap."""
    assert 5_000 == backoff_ms(20, 1_000, 5_000, EdgeRandom(high=True))


def test_same_seed_same_schedule() -> None:
    """A seeded Random gives a reproducible schedule."""
    first = [backoff_ms(n, 100, 10_000, random.Random(7)) for n in range(1, 10)]
    second = [backoff_ms(n, 100, 10_000, random.Random(7)) for n in range(1, 10)]
    assert first == second


@given(
    failures=st.integers(min_value=0, max_value=200),
    initial=st.integers(min_value=1, max_value=10**6),
    cap=st.integers(min_value=1, max_value=10**8),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_stays_within_jitter_bounds(failures: int, initial: int, cap: int, seed: int) -> None:
    """With any seed the delay is within ±20% of the capped base, at least 1ms, at most the cap."""
    delay = backoff_ms(failures, initial, cap, random.Random(seed))
    base = min(cap, initial * 2 ** max(0, failures - 1))
    assert 1 <= delay <= cap
    assert int(base * 0.8) <= delay <= base * 1.2 or delay == 1
