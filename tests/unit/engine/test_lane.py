"""Lane.park: a hibernating module's thread ends, and the next run starts another."""

from __future__ import annotations

import threading

import pytest

from cove._engine._lane import Lane


async def test_a_parked_lane_runs_again_on_a_new_thread() -> None:
    lane = Lane("test-lane")
    await lane.run(threading.get_ident)
    lane.park()
    assert await lane.run(lambda: 41 + 1) == 42
    lane.close()


async def test_a_parked_lane_keeps_no_thread() -> None:
    lane = Lane("test-lane-gone")
    await lane.run(lambda: None)
    assert any(t.name.startswith("test-lane-gone") for t in threading.enumerate())
    lane.park()
    for thread in [t for t in threading.enumerate() if t.name.startswith("test-lane-gone")]:
        thread.join(timeout=5)
    assert not any(t.name.startswith("test-lane-gone") for t in threading.enumerate())
    lane.close()


async def test_a_closed_lane_takes_no_more() -> None:
    lane = Lane("test-lane-closed")
    lane.close()
    with pytest.raises(RuntimeError, match="closed"):
        await lane.run(lambda: None)
