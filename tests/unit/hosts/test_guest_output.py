"""Guest output past its rate: the dropped lines are counted, not each handled."""

from __future__ import annotations

from cove._capabilities._budgets import TokenBucket
from cove._hosts._guest_output import BURST, LINES_PER_SECOND, GuestOutput


def test_a_bucket_gives_at_most_what_it_holds_and_keeps_the_rest() -> None:
    bucket = TokenBucket(10, 5, clock=lambda: 0.0)
    assert 3 == bucket.take_up_to(3)
    assert 2 == bucket.take_up_to(100)
    assert 0 == bucket.take_up_to(1)


def test_a_flood_in_one_write_logs_the_burst_and_counts_the_rest() -> None:
    logged: list[tuple[str, str]] = []
    output = GuestOutput("m", lambda _m, level, text, _f: logged.append((level, text)), True)
    output._rate = TokenBucket(LINES_PER_SECOND, BURST, clock=lambda: 0.0)  # no refill meanwhile
    output.write("stdout", b"".join(b"line %d\n" % i for i in range(100_000)) + b"tail")
    output.flush()
    lines = [text for _, text in logged]
    assert lines[:BURST] == [f"line {i}" for i in range(BURST)]
    # the unfinished "tail" comes with the flush, past the rate: dropped too
    assert lines[BURST:] == [f"{100_000 - BURST + 1} lines of guest output dropped "
                             "(over 100 lines per second)"]  # fmt: skip


def test_lines_split_across_writes_are_joined_before_they_are_counted() -> None:
    logged: list[str] = []
    output = GuestOutput("m", lambda _m, _l, text, _f: logged.append(text), True)
    output.write("stderr", b"one\ntw")
    output.write("stderr", b"o\nthr")
    output.flush()
    assert logged == ["one", "two", "thr"]
