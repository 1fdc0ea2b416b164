"""The two-minute soak (bench/soak.py): engine restarts, RPC and sink outages, module crashes
and webhook bursts under steady load, with RSS, fds, disk, metrics and every event checked."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.modules import REPO


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_two_minute_soak_passes_every_check() -> None:
    args = ["--duration", "120", "--restart-every", "60", "--outage-every", "40",
            "--outage-for", "8", "--sink-outage-every", "50", "--sink-outage-for", "6",
            "--burst-every", "30", "--burst", "300", "--warmup", "15"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=840,
    )
    print(result.stdout)
    assert 0 == result.returncode, result.stdout + result.stderr[-3000:]
    assert "FAIL" not in result.stdout
    assert "engine 2: open fds" in result.stdout  # the restart happened and was measured
