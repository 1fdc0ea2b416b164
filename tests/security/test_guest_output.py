"""A guest's stdout and stderr go to its module log, line by line, never to the console."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove import Trajectory
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, probe_module


async def test_guest_stdout_and_stderr_land_in_the_module_log(
    tmp_path: Path, probe_wasm: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    module = probe_module(tmp_path, probe_wasm, "chatty")
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    with capture_logs() as logs:
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("chatty", "print", text="hello from the guest")])
            await wait_until(lambda: len(trajectories) == 1, what="handled")
    # The guest's CPython buffers stdout but not stderr, so the two streams
    # may arrive in either order; each line arrives once, on its own stream.
    assert [
        ("chatty", "info", "stdout", "hello from the guest"),
        ("chatty", "warning", "stderr", "to stderr"),
    ] == sorted(
        (entry["module"], entry["log_level"], entry["stream"], entry["event"])
        for entry in logs
        if "stream" in entry
    )
    console = capfd.readouterr()
    assert "hello from the guest" not in console.out + console.err
    assert "to stderr" not in console.out + console.err
