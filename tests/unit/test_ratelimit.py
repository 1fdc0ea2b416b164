"""RateLimitedLog: one line per key per interval, the next one counting those left out."""

from __future__ import annotations

from typing import Any

from cove._ratelimit import RateLimitedLog


def test_one_line_per_key_per_interval_and_the_next_counts_the_rest() -> None:
    lines: list[tuple[str, dict[str, Any]]] = []
    now = [0.0]
    log = RateLimitedLog(lambda msg, **kw: lines.append((msg, kw)), 10.0, lambda: now[0])
    assert log("a", "failed", n=1)
    assert not log("a", "failed", n=2)
    assert not log("a", "failed", n=3)
    assert log("b", "failed", n=4)  # another key has its own interval
    now[0] = 10.0
    assert log("a", "failed", n=5)
    assert [
        ("failed", {"n": 1}),
        ("failed", {"n": 4}),
        ("failed", {"n": 5, "suppressed": 2}),
    ] == lines
