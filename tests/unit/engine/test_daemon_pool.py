"""DaemonPool: results and errors come back through futures; its threads never block exit."""

from __future__ import annotations

import threading

import pytest

from cove._engine._daemon_pool import DaemonPool


def test_results_and_errors_come_back_through_the_future() -> None:
    pool: DaemonPool[int] = DaemonPool(2, "test-pool")
    assert pool.submit(lambda: 6 * 7).result(timeout=10) == 42

    def boom() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        pool.submit(boom).result(timeout=10)
    pool.close()


def test_its_threads_are_daemons_so_a_stuck_job_cannot_hold_up_exit() -> None:
    release = threading.Event()
    pool: DaemonPool[bool] = DaemonPool(1, "test-stuck")
    stuck = pool.submit(lambda: release.wait(30))
    names = {t.name: t.daemon for t in threading.enumerate() if t.name.startswith("test-stuck")}
    assert names == {"test-stuck-0": True}
    queued = pool.submit(lambda: True)
    assert queued.cancel()  # still waiting behind the stuck job: a cancel takes
    release.set()
    assert stuck.result(timeout=10) is True
    pool.close()
