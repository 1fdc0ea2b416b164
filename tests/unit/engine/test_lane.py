"""Lane: one thread per strand of blocking work, which never holds up the process's exit and
ends while parked (a hibernating module keeps no thread)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from cove._engine._lane import Lane
from tests.helpers.modules import REPO


async def test_a_lane_runs_its_calls_in_order_on_one_thread_and_raises_their_errors() -> None:
    lane = Lane("test-lane")
    try:
        first = await lane.run(threading.get_ident)
        second = await lane.run(threading.get_ident)
        assert first == second != threading.get_ident()
        with pytest.raises(ZeroDivisionError):
            await lane.run(lambda: 1 / 0)
    finally:
        lane.close()
    with pytest.raises(RuntimeError, match="closed"):
        await lane.run(threading.get_ident)


def test_a_call_left_running_at_exit_does_not_hold_up_the_process() -> None:
    """A guest call the stop could not cut (a WASI sleep under way) is left on its
    lane; a ThreadPoolExecutor's worker was joined at exit, which waited for it."""
    script = textwrap.dedent(
        """
        import asyncio, time
        from cove._engine._lane import Lane

        async def main():
            lane = Lane("stuck")
            asyncio.get_running_loop().create_task(lane.run(time.sleep, 600))
            await asyncio.sleep(0.2)
            lane.close()

        asyncio.run(main())
        print("exited")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert (0, "exited\n") == (done.returncode, done.stdout), done.stderr


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


def _my_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own niceness is Linux's")
async def test_a_lowered_lane_runs_at_a_lower_os_priority_until_restored() -> None:
    """A module in a failure streak runs its attempts at a lower priority: its neighbours
    get the shared core first. Only that lane's thread, never the process."""
    lane = Lane("test-lane")
    try:
        base = await lane.run(_my_nice)
        lane.lower(5)
        assert min(19, base + 5) == await lane.run(_my_nice)
        assert _my_nice() == base  # the event loop's thread is untouched
        lane.restore()  # raising a priority again needs privileges: a fresh thread runs
        assert base == await lane.run(_my_nice)
    finally:
        lane.close()
