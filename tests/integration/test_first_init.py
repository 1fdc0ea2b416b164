"""Engine start waits for every module's first init, but not without end."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove._engine import _engine
from tests.helpers.engine import running_engine
from tests.helpers.modules import write_engine_config, write_manifest

SLOW_INIT = """
import time
from pathlib import Path

from cove import Plugin


class SlowInit(Plugin):
    def init(self, ctx):
        release = Path(ctx.config["release"])
        for _ in range(3000):  # until the test releases it (at most ~30 s)
            if release.exists():
                return
            time.sleep(0.01)
"""


def slow_module(tmp_path: Path) -> Path:
    module = write_manifest(
        tmp_path / "slow", "slow", kind="python", entry="slow:SlowInit",
        config={"release": str(tmp_path / "release")},
    )  # fmt: skip
    (module / "slow.py").write_text(SLOW_INIT)
    return module


async def test_start_waits_for_a_first_init_to_settle(tmp_path: Path) -> None:
    (tmp_path / "release").touch()
    config = write_engine_config(tmp_path / "engine.toml", [slow_module(tmp_path)])
    async with running_engine(config) as engine:
        assert "running" == engine.runners["slow"].state.value


async def test_a_native_init_that_does_not_end_does_not_hold_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A native plugin's init has no deadline: start stops waiting for it, says so, and the
    module stays initializing."""
    monkeypatch.setattr(_engine, "FIRST_INIT_WAIT_S", 0.2)
    config = write_engine_config(tmp_path / "engine.toml", [slow_module(tmp_path)])
    with capture_logs() as logs:
        async with running_engine(config) as engine:
            assert engine.started
            assert "initializing" == engine.runners["slow"].state.value
            (tmp_path / "release").touch()
    waited = [e for e in logs if e["event"] == "starting without waiting for init"]
    assert [["slow"]] == [e["modules"] for e in waited]
