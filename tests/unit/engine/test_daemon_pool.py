"""DaemonPool: results and errors come back through futures; a stuck job delays no other;
its threads never block exit."""

from __future__ import annotations

import threading

import pytest

from cove._engine._daemon_pool import DaemonPool


def test_results_and_errors_come_back_through_the_future() -> None:
    pool: DaemonPool[int] = DaemonPool("test-pool")
    assert pool.submit(lambda: 6 * 7).result(timeout=10) == 42

    def boom() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        pool.submit(boom).result(timeout=10)
    pool.close()


def test_a_free_thread_is_reused() -> None:
    pool: DaemonPool[int] = DaemonPool("test-reuse")
    for n in range(20):
        assert pool.submit(lambda n=n: n).result(timeout=10) == n  # type: ignore[misc]
    assert pool.threads == 1
    pool.close()


def test_stuck_jobs_delay_no_other_and_their_threads_are_daemons() -> None:
    release = threading.Event()
    pool: DaemonPool[bool] = DaemonPool("test-stuck")
    stuck = [pool.submit(lambda: release.wait(30)) for _ in range(5)]
    assert pool.submit(lambda: True).result(timeout=10) is True
    daemons = {t.name: t.daemon for t in threading.enumerate() if t.name.startswith("test-stuck")}
    assert daemons == {f"test-stuck-{i}": True for i in range(6)}
    release.set()
    assert [f.result(timeout=10) for f in stuck] == [True] * 5
    pool.close()
