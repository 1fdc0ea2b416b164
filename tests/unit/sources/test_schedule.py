"""Tick schedules: due windows agree with stepping one tick at a time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cove._sources._schedule import Schedule

T0_MS = 1_700_000_000_000
SCHEDULES = [
    Schedule.from_spec("every 30s", None, "30s"),
    Schedule.from_spec("every 7s", None, "7s"),
    Schedule.from_spec("*/5 * * * *", "*/5 * * * *", None),
    Schedule.from_spec("0 * * * *", "0 * * * *", None),
]


def _stepped(schedule: Schedule, after: int, upto: int) -> list[int]:
    ticks = []
    tick = schedule.next_after(after)
    while tick <= upto:
        ticks.append(tick)
        tick = schedule.next_after(tick)
    return ticks


@given(
    st.sampled_from(SCHEDULES),
    st.integers(0, 3_600_000),
    st.integers(0, 3 * 3_600_000),
    st.integers(1, 50),
)
def test_due_is_the_newest_ticks_of_the_window(
    schedule: Schedule, offset: int, length: int, cap: int
) -> None:
    after, upto = T0_MS + offset, T0_MS + offset + length
    every_tick = _stepped(schedule, after, upto)
    due = schedule.due(after, upto, cap)
    assert every_tick[-cap:] == due.ticks
    assert (len(every_tick) > cap) == due.dropped


def test_intervals_align_to_the_epoch_not_to_the_start() -> None:
    schedule = Schedule.from_spec("every 30s", None, "30s")
    assert 1_700_000_010_000 == schedule.next_after(T0_MS)
    assert 1_700_000_040_000 == schedule.next_after(1_700_000_010_000)


def test_cron_is_read_in_utc() -> None:
    daily = Schedule.from_spec("0 3 * * *", "0 3 * * *", None)
    assert 1_700_017_200_000 == daily.next_after(T0_MS)  # 2023-11-15 03:00:00 UTC
